/// Where one (campaign, recipient) message stands in the database. A message being sent
/// is `claimed`, and its attempt's result moves it on: accepted, deferred, failed or
/// unknown. While the attempt waits for the server's reply it is awaiting that reply in
/// the campaign's in-flight log (see `InFlightLog`), written before the final `.` of
/// DATA leaves, so that after a crash only such attempts may have been delivered without
/// our knowing (they become `unknown`). `awaitingReply` in the database is what versions
/// before the in-flight log wrote there: still read (and recovered), never written.
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

    /// The states of a message on its way to a server: an attempt's result lands only on these.
    public static let beingSent: Set<MessageState> = [.claimed, .awaitingReply]

    /// The states a message may move to this one from.
    public var sources: Set<MessageState> {
        switch self {
        case .queued: return [.claimed, .deferred, .failed, .unknown]   // release, due, retry
        case .claimed: return [.queued, .deferred]
        case .awaitingReply: return []                                  // written by earlier versions only
        case .accepted: return Self.beingSent
        case .deferred: return Self.beingSent
        case .failed: return Self.beingSent.union([.deferred])          // rejected, or expired
        case .unknown: return Self.beingSent                            // no verdict, or a crash before the reply
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
