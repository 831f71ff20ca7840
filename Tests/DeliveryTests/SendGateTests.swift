import Testing
@testable import Delivery

/// When the next message may leave, driven by times the test gives.
@Suite("Send gate")
struct SendGateTests {
    static func limits(_ texts: [String], history: [Double] = []) -> RateLimits {
        RateLimits(texts.compactMap(RateLimit.init(parsing:)), history: history)
    }

    @Test func aCoolDownComesBeforeAnyLimit() {
        var gate = SendGate(profile: Self.limits(["100/s"]))
        #expect(gate.ask(domain: "", now: 10, coolUntil: 40) == .coolingDown(until: 40))
        #expect(gate.ask(domain: "", now: 40, coolUntil: 40) == .go(wait: 0), "the cool-down is over at its time")
    }

    @Test func aSmoothedRateSpacesMessagesOut() {
        var gate = SendGate(profile: Self.limits(["2/s"]))
        var waits: [Double] = []
        for _ in 0..<4 {
            if case .go(let wait) = gate.ask(domain: "", now: 0, coolUntil: 0) { waits.append(wait) }
        }
        #expect(waits.count == 4)
        #expect(waits == waits.sorted() && waits.last! >= 1.0, "four messages at 2/s asked at once wait longer and longer: \(waits)")
    }

    @Test func aDomainsLimitHoldsOnlyThatDomain() {
        var gate = SendGate(profile: Self.limits([]), domains: ["qq.com": Self.limits(["1/h"])])
        #expect(gate.ask(domain: "qq.com", now: 0, coolUntil: 0) == .go(wait: 0))
        #expect(gate.ask(domain: "qq.com", now: 1, coolUntil: 0) == .limited(until: 3600))
        #expect(gate.ask(domain: "example.com", now: 1, coolUntil: 0) == .go(wait: 0))
    }

    @Test func aDailyCapCountsWhatWasSentBefore() {
        // Two of 2/day went out an hour ago (the history loaded from the database).
        var gate = SendGate(profile: Self.limits(["2/day"], history: [1000, 1001]))
        #expect(gate.ask(domain: "", now: 4600, coolUntil: 0) == .limited(until: 1000 + 86_400))
        #expect(gate.ask(domain: "", now: 1000 + 86_400, coolUntil: 0) == .go(wait: 0))
    }
}
