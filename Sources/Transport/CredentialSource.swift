import Delivery

/// What a new connection signs in with, asked for each time one opens (never once for a
/// whole run): an OAuth 2 token that expires is renewed by its source before it does, and
/// again when the server refuses it.
public protocol CredentialSource: Sendable {
    /// `renewing`: the server refused the last credentials (an expired or revoked token).
    func credentials(renewing: Bool) throws(TransportError) -> SMTPServer.Credentials
    /// How many times a new token replaced an expired or refused one during the run.
    var renewals: Int { get }
}
