/// A campaign's Message-IDs: `TOKEN.CONTACT@DOMAIN`. The token is random per campaign (so
/// the ids are unique in the world), the contact's number is unique in the campaign, and
/// the domain is the sender's (RFC 5322: id-left "@" id-right). One recipient keeps one
/// Message-ID through every retry: a bounce, a reply or a resend finds it by that.
public struct MessageIDs: Sendable, Equatable {
    public let token: String
    public let domain: String

    public init(token: String, domain: String) {
        self.token = token
        self.domain = domain
    }

    /// A new campaign's: sixteen random letters and digits.
    public static func random(domain: String) -> MessageIDs {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return MessageIDs(token: String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] }), domain: domain)
    }

    /// What comes before a contact's number: the store writes `prefix || contact || suffix`
    /// for every recipient of a campaign in one statement.
    public var prefix: String { token + "." }
    public var suffix: String { "@" + domain }

    /// The Message-ID (without angle brackets) of the recipient with contact number `contact`.
    public func id(contact: Int64) -> String { prefix + String(contact) + suffix }
}
