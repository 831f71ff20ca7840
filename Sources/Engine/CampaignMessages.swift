import Delivery
import Store

/// What the engine asks of the campaign: each claimed message made ready to leave. The
/// engine claims, routes, sends and records; making a message (the template, its
/// attachments and documents, the Sent copy kept before it goes) is the campaign's.
public protocol CampaignMessages: Sendable {
    /// Messages a batch when making them wants smaller batches than the engine's (documents
    /// made per batch: sending starts after the first few); nil: the engine's.
    var batchLimit: Int? { get }

    /// Prepares a claimed batch before its messages are made (PDF attachments, made all at
    /// once); returns the messages that cannot be made yet, with why: they wait, deferred.
    func prepare(_ batch: [ClaimedMessage]) -> [Int64: String]

    /// The message for `claimed`, dated `date` (seconds since 1970), with `returnPath`.
    /// Throws `SentCopyNotKept` when its copy for the Sent folder could not be kept (the run
    /// pauses: nothing goes without one); any other error fails the message, with the error.
    func message(for claimed: ClaimedMessage, campaign: Int64, returnPath: String, date: Int64) throws -> OutgoingMessage

    /// The run is over: files kept for messages now done can go.
    func runEnded()
}

/// A message's copy for the Sent folder could not be kept (the disk).
public struct SentCopyNotKept: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
