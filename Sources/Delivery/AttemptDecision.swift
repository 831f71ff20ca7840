/// What an attempt's outcome does to the message: its next state, when to try again,
/// and the reason recorded (a `FailureReason` raw value, or "expired").
public struct AttemptDecision: Sendable, Equatable {
    public var state: MessageState
    public var nextAttemptAt: Double?
    public var reason: String?
    /// The server refused the sender, not the recipient: never held against the recipient.
    public var isSenderSide = false
    /// The server asked us to slow down (421, or a rate or connection limit).
    public var isThrottling = false

    /// `attempts` counts this attempt; `firstAttemptAt` is when the message was first tried;
    /// `random` (in 0..<1, for the jitter) is drawn only for a deferral.
    public init(outcome: DeliveryOutcome, attempts: Int, firstAttemptAt: Double, now: Double, policy: RetryPolicy,
                random: @autoclosure () -> Double) {
        func later(_ reason: String) -> AttemptDecision {
            if policy.hasExpired(firstAttempt: firstAttemptAt, now: now) {
                return AttemptDecision(state: .failed, nextAttemptAt: nil, reason: FailureReason.expired.rawValue)
            }
            return AttemptDecision(state: .deferred, nextAttemptAt: now + policy.delay(afterAttempts: attempts, random: random()), reason: reason)
        }
        switch outcome {
        case .accepted:
            self.init(state: .accepted, nextAttemptAt: nil, reason: nil)
        case .unknown:
            self.init(state: .unknown, nextAttemptAt: nil, reason: "connection lost after the end of DATA")
        case .deferred(nil, _):
            self = later(FailureReason.networkError.rawValue)
        case .deferred(let reply?, _), .failed(let reply, _):
            let reason = FailureClassifier.classify(status: reply.enhancedStatus, code: reply.code, text: reply.text)
            // A full mailbox is transient even as a 5xx (RFC 3463 X.2.2); sender-side refusals
            // are retried rather than held against the recipient.
            if reply.isTransient || reason.isSenderSide || reason == .mailboxFull {
                self = later(reason.rawValue)
            } else {
                self.init(state: .failed, nextAttemptAt: nil, reason: reason.rawValue)
            }
            isSenderSide = reason.isSenderSide && reply.isPermanent
            isThrottling = reply.code == 421 || reason == .speeding || reason == .tooManyConnections
        }
    }

    public init(state: MessageState, nextAttemptAt: Double?, reason: String?) {
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.reason = reason
    }
}
