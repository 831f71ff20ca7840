/// A VERP return path, `bounce+C.M.TAG@bounce-domain`: each message's own envelope
/// sender, naming its campaign (C) and message (M) and signed (TAG), so that a bounce
/// sent back to it maps to its message and a forged one does not.
public struct VERPAddress: Sendable {
    public let domain: String
    private let tag: MessageTag

    /// `secret` comes from the environment; never from a file or the database. A domain of
    /// `*` decodes addresses at any domain (reading bounces; the tag still decides).
    /// `database`: the identity of the database the campaign lives in (see `UnsubscribeToken`).
    public init(domain: String, secret: String, database: String = "") {
        self.domain = domain.lowercased()
        // 48 bits: short enough for a local part, too long to guess.
        tag = MessageTag(secret: MessageTag.key(secret: secret, database: database), purpose: "verp", length: 6)
    }

    /// The return path for one message.
    public func address(campaign: Int64, message: Int64) -> String {
        "bounce+\(campaign).\(message).\(tag.tag(campaign, message))@\(domain)"
    }

    /// Whether an address has the form of a VERP return path, whatever its tag: a bounce
    /// sent to one whose tag does not hold is forged.
    public static func hasVERPForm(_ address: String) -> Bool {
        address.lowercased().hasPrefix("bounce+") && address.contains("@")
    }

    /// The campaign and message an address names, if it is one of ours and its tag holds.
    public func decode(_ address: String) -> (campaign: Int64, message: Int64)? {
        let lower = address.lowercased()
        guard lower.hasPrefix("bounce+"), let at = lower.lastIndex(of: "@"),
              domain == "*" || lower[lower.index(after: at)...] == domain else { return nil }
        return tag.decode(lower[lower.index(lower.startIndex, offsetBy: 7)..<at])
    }
}
