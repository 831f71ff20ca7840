/// When the next message may leave: under the profile's limits, under its relay's and under
/// its recipient domain's (across all relays), all decided from the time given (no clock, no
/// lock): the engine asks for each message and sleeps as told. A relay's cool-down after a
/// throttling reply is the rotation's (`RelayRotation`), not the gate's.
public struct SendGate: Sendable {
    public enum Answer: Sendable, Equatable {
        /// It may go: after `wait` seconds (a smoothed rate's spacing), its slot already taken.
        case go(wait: Double)
        /// A rolling window (an hourly or daily cap) is full until then; ask again then.
        /// `relayOnly`: only the relay's own cap is full (the others may carry the message).
        case limited(until: Double, relayOnly: Bool)
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
        let shared = max(profile.nextRollingSlot(now: now), domains[domain].map { limits -> Double in
            var limits = limits
            defer { domains[domain] = limits }
            return limits.nextRollingSlot(now: now)
        } ?? now)
        let own = relays.indices.contains(relay) ? relays[relay].nextRollingSlot(now: now) : now
        guard shared <= now, own <= now else { return .limited(until: max(shared, own), relayOnly: shared <= now) }
        var wait = profile.take(now: now)
        if var limits = domains[domain] {
            wait = max(wait, limits.take(now: now))
            domains[domain] = limits
        }
        if relays.indices.contains(relay) { wait = max(wait, relays[relay].take(now: now)) }
        return .go(wait: wait)
    }
}
