/// Where one (campaign, recipient) message stands. The heart of reliability:
/// `awaitingReply` is made durable before the final `.` of DATA leaves (a running
/// send keeps it in the campaign's in-flight log, see `InFlightLog`), so after a
/// crash only messages in that state may have been delivered without our knowing.
public enum MessageState: String, Sendable, CaseIterable, Codable {
    case queued
    case claimed
    case awaitingReply = "awaiting_reply"
    case accepted
    case deferred
    case failed
    case unknown
    case bounced
    case complained
    case skipped

    /// The states a message may move to this one from.
    public var sources: Set<MessageState> {
        switch self {
        case .queued: return [.claimed, .deferred, .failed, .unknown]   // release, due, retry
        case .claimed: return [.queued, .deferred]
        case .awaitingReply: return [.claimed]
        case .accepted: return [.awaitingReply]
        case .deferred: return [.claimed, .awaitingReply]
        case .failed: return [.claimed, .awaitingReply, .deferred]      // rejected, or expired
        case .unknown: return [.awaitingReply]
        case .bounced: return [.accepted, .unknown, .deferred]
        case .complained: return [.accepted, .bounced, .unknown]
        case .skipped: return [.queued, .claimed]
        }
    }

    public func canMove(to next: MessageState) -> Bool { next.sources.contains(self) }

    /// No further delivery attempt will be made without the operator asking.
    public var isFinal: Bool {
        switch self {
        case .accepted, .failed, .unknown, .bounced, .complained, .skipped: return true
        case .queued, .claimed, .awaitingReply, .deferred: return false
        }
    }
}
