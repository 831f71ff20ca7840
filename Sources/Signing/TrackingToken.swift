/// The tokens of tracked links (`/c/C.M.L.TAG`: campaign, message, link number) and open
/// images (`/o/C.M.TAG.gif`), signed with the secret like unsubscribe tokens, each with a
/// purpose of its own: one kind of token never passes for another, and a changed number
/// does not verify.
public struct TrackingToken: Sendable {
    private let click: MessageTag
    private let open: MessageTag

    /// `database`: the identity of the database the campaign lives in.
    public init(secret: String, database: String = "") {
        let key = MessageTag.key(secret: secret, database: database)
        click = MessageTag(secret: key, purpose: "click", length: 8)
        open = MessageTag(secret: key, purpose: "open", length: 8)
    }

    public func click(campaign: Int64, message: Int64, link: Int) -> String {
        "\(campaign).\(message).\(link).\(click.tag([campaign, message, Int64(link)]))"
    }

    public func open(campaign: Int64, message: Int64) -> String {
        "\(campaign).\(message).\(open.tag([campaign, message]))"
    }

    public func decodeClick(_ token: String) -> (campaign: Int64, message: Int64, link: Int)? {
        click.decode(Substring(token), count: 3).map { ($0[0], $0[1], Int($0[2])) }
    }

    public func decodeOpen(_ token: String) -> (campaign: Int64, message: Int64)? {
        open.decode(Substring(token), count: 2).map { ($0[0], $0[1]) }
    }
}
