import Testing
@testable import Delivery

/// When the next message may leave, driven by times the test gives.
@Suite("Send gate")
struct SendGateTests {
    static func limits(_ texts: [String], history: [Double] = []) -> RateLimits {
        RateLimits(texts.compactMap(RateLimit.init(parsing:)), history: history)
    }

    @Test func aSmoothedRateSpacesMessagesOut() {
        var gate = SendGate(profile: Self.limits(["2/s"]))
        var waits: [Double] = []
        for _ in 0..<4 {
            if case .go(let wait) = gate.ask(domain: "", now: 0) { waits.append(wait) }
        }
        #expect(waits.count == 4)
        #expect(waits == waits.sorted() && waits.last! >= 1.0, "four messages at 2/s asked at once wait longer and longer: \(waits)")
    }

    @Test func aDomainsLimitHoldsOnlyThatDomain() {
        var gate = SendGate(profile: Self.limits([]), domains: ["qq.com": Self.limits(["1/h"])])
        #expect(gate.ask(domain: "qq.com", now: 0) == .go(wait: 0))
        #expect(gate.ask(domain: "qq.com", now: 1) == .limited(until: 3600, by: .domain))
        #expect(gate.ask(domain: "example.com", now: 1) == .go(wait: 0))
    }

    @Test func aDailyCapCountsWhatWasSentBefore() {
        // Two of 2/day went out an hour ago (the history loaded from the database).
        var gate = SendGate(profile: Self.limits(["2/day"], history: [1000, 1001]))
        #expect(gate.ask(domain: "", now: 4600) == .limited(until: 1000 + 86_400, by: .profile))
        #expect(gate.ask(domain: "", now: 1000 + 86_400) == .go(wait: 0))
    }

    @Test func aRelaysCapHoldsOnlyThatRelayAndSaysSo() {
        // Relay 0 may send 2 an hour and sent 2 a minute ago; relay 1 has no cap of its own.
        var gate = SendGate(profile: Self.limits(["10/day"]), relays: [Self.limits(["2/h"], history: [940, 950]), Self.limits([])])
        #expect(gate.ask(relay: 0, domain: "", now: 1000) == .limited(until: 940 + 3600, by: .relay))
        #expect(gate.ask(relay: 1, domain: "", now: 1000) == .go(wait: 0), "the other relay carries it")
        // The profile's cap counts both relays: full, it holds every relay.
        var full = SendGate(profile: Self.limits(["1/day"], history: [900]), relays: [Self.limits([]), Self.limits([])])
        #expect(full.ask(relay: 1, domain: "", now: 1000) == .limited(until: 900 + 86_400, by: .profile))
    }

    @Test func aRelaysSmoothedRateSpacesOnlyItsOwnMessages() {
        var gate = SendGate(profile: Self.limits([]), relays: [Self.limits(["1/s"]), Self.limits([])])
        #expect(gate.ask(relay: 0, domain: "", now: 0) == .go(wait: 0))
        #expect(gate.ask(relay: 0, domain: "", now: 0) == .go(wait: 1))
        #expect(gate.ask(relay: 1, domain: "", now: 0) == .go(wait: 0))
    }
}
