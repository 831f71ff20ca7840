import Delivery

/// A server the campaign's messages go through, as the engine sees it: a campaign has one,
/// or a profile's several `relays:`, each with its transport, connections, weight, limits
/// and the recipient domains kept for it.
public struct Relay: Sendable {
    /// Its name in the profile; nil for a campaign's one server (its events record no relay).
    public var name: String?
    public var transport: any MessageTransport
    public var connections: Int
    public var weight = 1
    public var domains: [String] = []
    /// Its own limits, beside the profile's (which count every relay).
    public var rates: [RateLimit] = []
    /// Why it starts out of rotation, when the check before the run failed for it: a refused
    /// sign-in leaves it out for the run; a server not reached is probed again.
    public var outAtStart: PauseCause?

    public init(name: String?, transport: any MessageTransport, connections: Int) {
        self.name = name
        self.transport = transport
        self.connections = max(1, connections)
    }

    /// The name reports and pauses give it.
    public var label: String { name ?? "the server" }
}
