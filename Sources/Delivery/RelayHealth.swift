/// What a relay's answers say about it, decided from the outcomes and the times alone (no
/// clock, no lock, no thread), so that each rule can be driven by a test: a lost server
/// means waiting before reconnecting, and after `serverLostTimeout` a pause; a throttling
/// reply cools the whole profile down, doubling while it goes on; refusals of the sender,
/// or attempts without a verdict, that come in a row pause the campaign.
public struct RelayHealth: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// After the server has been unreachable this long (seconds), the campaign pauses.
        public var serverLostTimeout: Double = 300
        /// The first wait before reconnecting to a lost server; it doubles up to a minute.
        public var reconnectDelay: Double = 1
        /// Refusals of the sender in a row (policy, reputation, authentication) that pause.
        public var senderSideFailuresBeforePause = 5
        /// Outcomes left unknown in a row (no reply after the end of DATA) that pause: a server
        /// that stalls after every message would otherwise turn the whole list unknown.
        public var unknownsBeforePause = 5
        /// How long a 421 or rate-limit reply holds the profile back; doubles while they repeat (up to 15 minutes).
        public var throttleCooldown: Double = 30

        public init() {}
    }

    /// What to do after an outcome.
    public struct Verdict: Sendable, Equatable {
        /// Wait this long before the connection tries again (the server was not reached).
        public var reconnectIn: Double?
        /// Stop the campaign, for this reason.
        public var pause: PauseCause?
    }

    public let settings: Settings
    /// Since when the server has not been reached, while it is not.
    public private(set) var serverLostSince: Double?
    /// No message leaves before this time (a 421 or a throttling reply cooled the profile down).
    public private(set) var coolUntil = 0.0
    private var connectionFailuresInARow = 0
    private var senderSideInARow = 0
    private var unknownInARow = 0
    private var throttlesInARow = 0

    public init(settings: Settings) {
        self.settings = settings
    }

    public mutating func record(_ outcome: DeliveryOutcome, decision: AttemptDecision, at now: Double) -> Verdict {
        if case .deferred(nil, let detail) = outcome {
            let since = serverLostSince ?? now
            serverLostSince = since
            connectionFailuresInARow += 1
            let wait = min(60, settings.reconnectDelay * Self.power(2, min(connectionFailuresInARow - 1, 6)))
            let pause: PauseCause? = now - since >= settings.serverLostTimeout
                ? .serverUnreachable(seconds: Int(now - since), detail: detail) : nil
            return Verdict(reconnectIn: wait, pause: pause)
        }
        serverLostSince = nil
        connectionFailuresInARow = 0
        if decision.isThrottling {
            throttlesInARow += 1
            let cooldown = min(900, settings.throttleCooldown * Self.power(2, min(throttlesInARow - 1, 10)))
            coolUntil = max(coolUntil, now + cooldown)
        } else if decision.state == .accepted {
            throttlesInARow = 0
        }
        if decision.isSenderSide {
            senderSideInARow += 1
            if senderSideInARow >= settings.senderSideFailuresBeforePause {
                return Verdict(pause: .senderRefused(times: senderSideInARow, last: outcome.reply?.text ?? outcome.detail))
            }
        } else if decision.state == .accepted || decision.state == .failed {
            senderSideInARow = 0
        }
        if decision.state == .unknown {
            unknownInARow += 1
            if unknownInARow >= settings.unknownsBeforePause {
                return Verdict(pause: .noVerdicts(count: unknownInARow, last: outcome.detail))
            }
        } else {
            unknownInARow = 0
        }
        return Verdict()
    }

    private static func power(_ base: Double, _ exponent: Int) -> Double {
        (0..<max(0, exponent)).reduce(1) { result, _ in result * base }
    }
}
