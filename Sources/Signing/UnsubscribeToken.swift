/// The token in a recipient's unsubscribe link: campaign and message, signed with the
/// secret; no address in clear, and a tampered token does not verify.
public struct UnsubscribeToken: Sendable {
    private let tag: MessageTag

    /// `database`: the identity of the database the campaign lives in; a token of one
    /// database does not verify in another that shares the secret.
    public init(secret: String, database: String = "") {
        tag = MessageTag(secret: MessageTag.key(secret: secret, database: database), purpose: "unsubscribe", length: 8)
    }

    public func token(campaign: Int64, message: Int64) -> String {
        "\(campaign).\(message).\(tag.tag(campaign, message))"
    }

    public func decode(_ token: String) -> (campaign: Int64, message: Int64)? {
        tag.decode(Substring(token))
    }
}
