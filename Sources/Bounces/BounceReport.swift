import Delivery

/// What one bounce message says about one recipient.
public struct BounceReport: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// The message was not delivered.
        case failure
        /// Still being tried (`Action: delayed`): a warning, not a failure.
        case delay
        /// A delivery-success notice.
        case delivered
        /// An ARF feedback report (RFC 5965): the recipient marked it as spam.
        case complaint
        /// An automatic reply (RFC 3834, vacation notices): ignored.
        case autoReply = "auto-reply"
    }

    public var kind: Kind
    public var recipient: String?
    /// The address as first given (`Original-Recipient`), when the report names a rewritten
    /// one (an alias, a forward) as its recipient: the address Broadside sent to.
    public var originalRecipient: String?
    public var action: String?
    /// The enhanced status code (RFC 3463), when there is one.
    public var status: String?
    public var replyCode: Int?
    public var reason: FailureReason
    /// The address will never work (user unknown, host unknown, has moved, a permanent not-accept).
    public var hard: Bool
    public var diagnostic: String?
    /// The Message-ID of the returned original, when it came back.
    public var messageID: String?
    /// The envelope address the bounce was sent to (a VERP return path carries campaign and message).
    public var returnPath: String?
    /// The Broadside campaign named in the returned original's headers, if any.
    public var campaign: String?

    enum CodingKeys: String, CodingKey {
        case kind, recipient, action, status, reason, hard, diagnostic, campaign
        case replyCode = "reply_code"
        case messageID = "message_id"
        case originalRecipient = "original_recipient"
        case returnPath = "return_path"
    }
}
