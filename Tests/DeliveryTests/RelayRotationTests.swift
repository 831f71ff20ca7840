import Testing
@testable import Delivery

/// Which relay carries each message, driven by outcomes and times the test gives (no clock).
@Suite("Relay rotation")
struct RelayRotationTests {
    static let accepted = DeliveryOutcome.accepted(SMTPReply(code: 250, text: "250 ok"))
    static let lost = DeliveryOutcome.deferred(nil, detail: "connection refused")
    static let throttled = DeliveryOutcome.deferred(SMTPReply(code: 421, enhancedStatus: "4.7.0", text: "421 4.7.0 slow down"), detail: "421")
    static let blocklisted = DeliveryOutcome.failed(SMTPReply(code: 554, enhancedStatus: "5.7.1",
                                                              text: "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"),
                                                    detail: "554")

    static func rotation(_ weights: [Int], settings: RelayHealth.Settings = RelayHealth.Settings()) -> RelayRotation {
        RelayRotation(relays: weights.enumerated().map { RelayRotation.Relay(name: "r\($0.offset)", weight: $0.element) }, health: settings)
    }

    static func record(_ rotation: inout RelayRotation, _ outcome: DeliveryOutcome, relay: Int, at now: Double) -> RelayRotation.Verdict {
        let decision = AttemptDecision(outcome: outcome, attempts: 1, firstAttemptAt: now, now: now, policy: RetryPolicy(), random: 0.5)
        return rotation.record(outcome, decision: decision, relay: relay, domain: "example.com", at: now)
    }

    static func picks(_ rotation: inout RelayRotation, _ count: Int, domain: String = "example.com", at now: Double = 0) -> [Int] {
        (0..<count).map { _ in
            guard case .relay(let index, _) = rotation.pick(domain: domain, now: now) else { return -1 }
            return index
        }
    }

    @Test func weightsGiveExactSharesWithoutBursts() {
        var rotation = Self.rotation([3, 1, 1])
        let picks = Self.picks(&rotation, 10)
        #expect(picks == [0, 1, 0, 2, 0, 0, 1, 0, 2, 0], "smooth: the heavy relay's turns are spread out")
        let many = Self.picks(&rotation, 10_000)
        #expect(many.filter { $0 == 0 }.count == 6000)
        #expect(many.filter { $0 == 1 }.count == 2000)
    }

    @Test func aLostRelayRestsItsMessageIsReroutedAndAProbeBringsItBack() {
        var rotation = Self.rotation([1, 1])
        let verdict = Self.record(&rotation, Self.lost, relay: 0, at: 10)
        #expect(verdict.change == .out(relay: 0, reason: "not reached: connection refused"))
        #expect(verdict.reroute, "relay 1 can carry the message at once")
        #expect(verdict.pause == nil)
        #expect(Set(Self.picks(&rotation, 5, at: 10.5)) == [1], "while it rests, everything goes to the other")
        // Its rest (1 s, the first reconnect delay) is over: the next message probes it.
        #expect(rotation.pick(domain: "example.com", now: 11) == .relay(0, probe: true))
        #expect(!rotation.carries(0), "one probe at a time: other messages still go elsewhere")
        #expect(Set(Self.picks(&rotation, 3, at: 11)) == [1])
        #expect(Self.record(&rotation, Self.accepted, relay: 0, at: 11.2).change == .back(relay: 0))
        #expect(Set(Self.picks(&rotation, 4, at: 12)) == [0, 1])
        #expect(abs(rotation.secondsOut(0, now: 20) - 1.2) < 1e-9, "out from 10 to 11.2")
    }

    @Test func aFailedProbeRestsLongerEachTime() {
        var rotation = Self.rotation([1, 1])
        _ = Self.record(&rotation, Self.lost, relay: 0, at: 0)
        var rests: [Double] = []
        var now = 0.0
        for _ in 0..<4 {
            guard case .resting(let until, _) = rotation.standings[0] else { Issue.record("not resting"); return }
            rests.append(until - now)
            now = until
            #expect(rotation.pick(domain: "example.com", now: now) == .relay(0, probe: true))
            _ = Self.record(&rotation, Self.lost, relay: 0, at: now)
        }
        #expect(rests == [1, 2, 4, 8])
    }

    @Test func aThrottledRelayRestsForTheCoolDown() {
        var settings = RelayHealth.Settings()
        settings.throttleCooldown = 30
        var rotation = Self.rotation([1, 1], settings: settings)
        let verdict = Self.record(&rotation, Self.throttled, relay: 1, at: 100)
        #expect(verdict.change == .out(relay: 1, reason: "asked to slow down: 421 4.7.0 slow down"))
        #expect(verdict.reroute)
        #expect(rotation.standings[1] == .resting(until: 130, reason: "asked to slow down: 421 4.7.0 slow down"))
        // Messages already in flight that were accepted do not end the rest early.
        #expect(Self.record(&rotation, Self.accepted, relay: 1, at: 101).change == nil)
        #expect(rotation.pick(domain: "example.com", now: 129) == .relay(0, probe: false))
        #expect(rotation.pick(domain: "example.com", now: 130) == .relay(1, probe: true))
    }

    @Test func aRelayWhoseIPIsRefusedIsLeftOutAndNamed() {
        var settings = RelayHealth.Settings()
        settings.senderSideFailuresBeforePause = 3
        var rotation = Self.rotation([1, 1], settings: settings)
        for second in 0..<2 {
            let verdict = Self.record(&rotation, Self.blocklisted, relay: 0, at: Double(second))
            #expect(verdict.reroute, "a refusal of the relay's IP is not the recipient's: another relay tries")
            #expect(verdict.change == nil)
        }
        let third = Self.record(&rotation, Self.blocklisted, relay: 0, at: 2)
        guard case .out(0, let reason)? = third.change else { Issue.record("not out: \(third)"); return }
        #expect(reason.contains("zen.spamhaus.org"), "the report can say why: \(reason)")
        #expect(third.pause == nil, "relay 1 still carries the campaign")
        #expect(Set(Self.picks(&rotation, 4, at: 1000)) == [1], "never probed again in this run")
    }

    @Test func theCampaignPausesOnlyWhenEveryRelayIsLeftOutNamingEach() {
        var rotation = Self.rotation([2, 1])
        rotation.leaveOut(0, cause: .signInRequired(reply: "535 5.7.8 bad credentials"), at: 0)
        #expect(rotation.pauseCause == nil)
        #expect(rotation.pick(domain: "example.com", now: 0) == .relay(1, probe: false))
        rotation.leaveOut(1, cause: .serverUnreachable(seconds: 300, detail: "connection refused"), at: 5)
        #expect(rotation.pick(domain: "example.com", now: 5) == .noneLeft)
        guard case .noRelayLeft(let reasons)? = rotation.pauseCause else { Issue.record("no pause"); return }
        #expect(reasons.count == 2)
        #expect(reasons[0].hasPrefix("r0: the server requires sign-in (535 5.7.8 bad credentials)"))
        #expect(reasons[1].hasPrefix("r1: the server has been unreachable for 300 s"))
    }

    @Test func oneRelayPausesWithItsOwnCauseAsBefore() {
        var rotation = Self.rotation([1])
        #expect(Self.record(&rotation, Self.lost, relay: 0, at: 0).reroute == false, "no other relay: the retry policy's time stands")
        #expect(rotation.pick(domain: "x.org", now: 0.5) == .wait(until: 1, capped: false))
        var now = 0.0
        var verdict = RelayRotation.Verdict()
        while verdict.pause == nil && now < 1000 {
            now += 60
            _ = rotation.pick(domain: "x.org", now: now)
            verdict = Self.record(&rotation, Self.lost, relay: 0, at: now)
        }
        #expect(verdict.pause == .serverUnreachable(seconds: 300, detail: "connection refused"))
    }

    @Test func domainsKeptForARelayGoOnlyThroughIt() {
        var rotation = RelayRotation(relays: [RelayRotation.Relay(name: "general", weight: 5), RelayRotation.Relay(name: "cn", domains: ["QQ.com", "163.com"])],
                                     health: RelayHealth.Settings())
        #expect(Set(Self.picks(&rotation, 20, domain: "qq.com")) == [1])
        #expect(Set(Self.picks(&rotation, 20, domain: "gmail.com")) == [0], "the kept relay carries no other mail")
        rotation.leaveOut(1, cause: .signInRequired(reply: "535"), at: 0)
        #expect(rotation.pick(domain: "163.com", now: 0) == .noneLeft, "its domains wait rather than leave through another relay")
        #expect(rotation.pauseCause == nil, "the campaign goes on for other domains")
    }

    @Test func aProbeWhoseSenderIsRefusedRestsTheRelayAgainRatherThanLeavingItStuck() {
        var settings = RelayHealth.Settings()
        settings.throttleCooldown = 30
        var rotation = Self.rotation([1, 1], settings: settings)
        _ = Self.record(&rotation, Self.lost, relay: 0, at: 0)
        #expect(rotation.pick(domain: "example.com", now: 1) == .relay(0, probe: true))
        let verdict = Self.record(&rotation, Self.blocklisted, relay: 0, at: 1.2)
        #expect(verdict.reroute, "the other relay carries the refused message")
        guard case .resting(let until, let reason) = rotation.standings[0] else { Issue.record("\(rotation.standings[0])"); return }
        #expect(until == 31.2 && reason.contains("zen.spamhaus.org"))
        #expect(rotation.pick(domain: "example.com", now: 31.2) == .relay(0, probe: true), "probed again when that rest is over")
    }

    @Test func aProbeThatNeverWentIsSentAgain() {
        var rotation = Self.rotation([1, 1])
        _ = Self.record(&rotation, Self.lost, relay: 0, at: 0)
        #expect(rotation.pick(domain: "example.com", now: 1) == .relay(0, probe: true))
        rotation.probeReturned(0, at: 1.5)
        #expect(rotation.pick(domain: "example.com", now: 1.5) == .relay(0, probe: true))
    }
}
