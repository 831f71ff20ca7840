/// What an attempt's outcome does to the message: its next state, when to try again,
/// and the reason recorded.
public struct AttemptDecision: Sendable, Equatable {
    public var state: MessageState
    public var nextAttemptAt: Double?
    public var reason: String?

    /// `attempts` counts this attempt; `firstAttemptAt` is when the message was first tried.
    public init(outcome: DeliveryOutcome, attempts: Int, firstAttemptAt: Double, now: Double, policy: RetryPolicy, random: Double) {
        switch outcome {
        case .accepted:
            self.init(state: .accepted, nextAttemptAt: nil, reason: nil)
        case .failed(let reply, _):
            self.init(state: .failed, nextAttemptAt: nil, reason: reply.enhancedStatus.map { "rejected (\($0))" } ?? "rejected")
        case .unknown:
            self.init(state: .unknown, nextAttemptAt: nil, reason: "connection lost after the end of DATA")
        case .deferred(let reply, _):
            if policy.hasExpired(firstAttempt: firstAttemptAt, now: now) {
                self.init(state: .failed, nextAttemptAt: nil, reason: "expired")
            } else {
                let delay = policy.delay(afterAttempts: attempts, random: random)
                self.init(state: .deferred, nextAttemptAt: now + delay, reason: reply == nil ? "connection" : "temporary failure")
            }
        }
    }

    public init(state: MessageState, nextAttemptAt: Double?, reason: String?) {
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.reason = reason
    }
}
