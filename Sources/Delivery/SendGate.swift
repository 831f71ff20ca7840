/// When the next message may leave: under the profile's limits, under its relay's and under
/// its recipient domain's (across all relays), all decided from the time given (no clock, no
/// lock): the engine asks for each message and sleeps as told. A relay's cool-down after a
/// throttling reply is the rotation's (`RelayRotation`), not the gate's.
public struct SendGate: Sendable {
    public enum Answer: Sendable, Equatable {
        /// It may go: after `wait` seconds (a smoothed rate's spacing), its slot already taken.
        case go(wait: Double)
        /// A rolling window (an hourly or daily cap) is full until then: the profile's (every
        /// message waits), the recipient domain's (only that domain's) or the relay's own (the
        /// other relays may carry the message).
        case limited(until: Double, by: Limit)
    }

    public enum Limit: Sendable, Equatable {
        case profile, domain, relay
    }

    private var profile: RateLimits
    private var domains: [String: RateLimits]
    private var relays: [RateLimits]

    /// `domains`: the limits of recipient domains, by lowercased domain; `relays`: each
    /// relay's own, by its number in the rotation.
    public init(profile: RateLimits, domains: [String: RateLimits] = [:], relays: [RateLimits] = []) {
        self.profile = profile
        self.domains = domains
        self.relays = relays
    }

    public mutating func ask(relay: Int = 0, domain: String, now: Double) -> Answer {
        let whole = profile.nextRollingSlot(now: now)
        if whole > now { return .limited(until: whole, by: .profile) }
        if var limits = domains[domain] {
            let slot = limits.nextRollingSlot(now: now)
            domains[domain] = limits
            if slot > now { return .limited(until: slot, by: .domain) }
        }
        let own = relays.indices.contains(relay) ? relays[relay].nextRollingSlot(now: now) : now
        if own > now { return .limited(until: own, by: .relay) }
        var wait = profile.take(now: now)
        if var limits = domains[domain] {
            wait = max(wait, limits.take(now: now))
            domains[domain] = limits
        }
        if relays.indices.contains(relay) { wait = max(wait, relays[relay].take(now: now)) }
        return .go(wait: wait)
    }
}
