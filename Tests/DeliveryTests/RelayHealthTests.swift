import Testing
@testable import Delivery

/// The relay's health rules, driven by outcomes and times given by the test (no clock).
@Suite("Relay health")
struct RelayHealthTests {
    static let policy = RetryPolicy()

    static func decide(_ outcome: DeliveryOutcome, at now: Double) -> AttemptDecision {
        AttemptDecision(outcome: outcome, attempts: 1, firstAttemptAt: now, now: now, policy: policy, random: 0.5)
    }

    static func record(_ health: inout RelayHealth, _ outcome: DeliveryOutcome, at now: Double) -> RelayHealth.Verdict {
        health.record(outcome, decision: decide(outcome, at: now), at: now)
    }

    static let accepted = DeliveryOutcome.accepted(SMTPReply(code: 250, text: "250 ok"))
    static let lost = DeliveryOutcome.deferred(nil, detail: "connection refused")

    @Test func aLostServerIsRetriedWithDoublingWaitsThenPausesTheRun() {
        var settings = RelayHealth.Settings()
        settings.serverLostTimeout = 300
        var health = RelayHealth(settings: settings)
        var waits: [Double] = []
        for second in [0.0, 1, 3, 7, 15, 31, 63, 123] {
            let verdict = Self.record(&health, Self.lost, at: second)
            waits.append(verdict.reconnectIn ?? -1)
            #expect(verdict.pause == nil)
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60], "doubling, at most a minute")
        #expect(health.serverLostSince == 0)
        let late = Self.record(&health, Self.lost, at: 300)
        #expect(late.pause == .serverUnreachable(seconds: 300, detail: "connection refused"))
    }

    @Test func reachingTheServerAgainForgetsItWasLost() {
        var health = RelayHealth(settings: RelayHealth.Settings())
        _ = Self.record(&health, Self.lost, at: 0)
        _ = Self.record(&health, Self.lost, at: 1)
        #expect(Self.record(&health, Self.accepted, at: 2) == RelayHealth.Verdict())
        #expect(health.serverLostSince == nil)
        #expect(Self.record(&health, Self.lost, at: 400).reconnectIn == 1, "the backoff starts over")
    }

    @Test func throttlingCoolsTheProfileDownLongerWhileItGoesOn() {
        var settings = RelayHealth.Settings()
        settings.throttleCooldown = 30
        var health = RelayHealth(settings: settings)
        let throttled = DeliveryOutcome.deferred(SMTPReply(code: 421, enhancedStatus: "4.7.0", text: "421 4.7.0 slow down"), detail: "421")
        _ = Self.record(&health, throttled, at: 100)
        #expect(health.coolUntil == 130)
        _ = Self.record(&health, throttled, at: 130)
        #expect(health.coolUntil == 190, "twice as long the second time")
        _ = Self.record(&health, Self.accepted, at: 190)
        _ = Self.record(&health, throttled, at: 200)
        #expect(health.coolUntil == 230, "an accepted message starts the doubling over")
    }

    @Test func refusalsOfTheSenderInARowPauseAndAnAcceptanceResetsThem() {
        var settings = RelayHealth.Settings()
        settings.senderSideFailuresBeforePause = 3
        var health = RelayHealth(settings: settings)
        let refused = DeliveryOutcome.failed(SMTPReply(code: 550, enhancedStatus: "5.7.1", text: "550 5.7.1 sender blocked using Spamhaus"), detail: "550")
        #expect(Self.record(&health, refused, at: 1).pause == nil)
        #expect(Self.record(&health, refused, at: 2).pause == nil)
        _ = Self.record(&health, Self.accepted, at: 3)
        #expect(Self.record(&health, refused, at: 4).pause == nil)
        #expect(Self.record(&health, refused, at: 5).pause == nil)
        #expect(Self.record(&health, refused, at: 6).pause == .senderRefused(times: 3, last: "550 5.7.1 sender blocked using Spamhaus"))
    }

    @Test func attemptsWithoutAVerdictInARowPause() {
        var settings = RelayHealth.Settings()
        settings.unknownsBeforePause = 2
        var health = RelayHealth(settings: settings)
        let unknown = DeliveryOutcome.unknown(detail: "no reply after the end of DATA")
        #expect(Self.record(&health, unknown, at: 1).pause == nil)
        #expect(Self.record(&health, Self.accepted, at: 2).pause == nil)
        #expect(Self.record(&health, unknown, at: 3).pause == nil)
        #expect(Self.record(&health, unknown, at: 4).pause == .noVerdicts(count: 2, last: "no reply after the end of DATA"))
    }
}
