/// When the next message may leave: after a cool-down (a 421 or a throttling reply), under
/// the profile's limits and under its recipient domain's, all decided from the time given
/// (no clock, no lock): the engine asks for each message and sleeps as told.
public struct SendGate: Sendable {
    public enum Answer: Sendable, Equatable {
        /// It may go: after `wait` seconds (a smoothed rate's spacing), its slot already taken.
        case go(wait: Double)
        /// The profile is cooling down until then; ask again then.
        case coolingDown(until: Double)
        /// A rolling window (an hourly or daily cap) is full until then; ask again then.
        case limited(until: Double)
    }

    private var profile: RateLimits
    private var domains: [String: RateLimits]

    /// `domains`: the limits of recipient domains, by lowercased domain.
    public init(profile: RateLimits, domains: [String: RateLimits] = [:]) {
        self.profile = profile
        self.domains = domains
    }

    /// Whether any domain has limits (else the recipient's domain need not be worked out).
    public var limitsDomains: Bool { !domains.isEmpty }

    public mutating func ask(domain: String, now: Double, coolUntil: Double) -> Answer {
        if coolUntil > now { return .coolingDown(until: coolUntil) }
        var slot = profile.nextRollingSlot(now: now)
        if var limits = domains[domain] {
            slot = max(slot, limits.nextRollingSlot(now: now))
            domains[domain] = limits
        }
        guard slot <= now else { return .limited(until: slot) }
        var wait = profile.take(now: now)
        if var limits = domains[domain] {
            wait = max(wait, limits.take(now: now))
            domains[domain] = limits
        }
        return .go(wait: wait)
    }
}
