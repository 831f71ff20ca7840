import Crypto
import Foundation

/// A short HMAC-SHA256 tag over (purpose, campaign, message), in hex: what signs VERP
/// return paths and unsubscribe tokens, so that neither can be forged or reused for the other.
struct MessageTag: Sendable {
    /// Kept as bytes: swift-crypto's SymmetricKey is not Sendable.
    let secret: [UInt8]
    let purpose: String
    /// Bytes of the MAC kept (hex doubles them).
    let length: Int

    /// The key for one database: the secret, bound to the database's identity when it has one.
    static func key(secret: String, database: String) -> [UInt8] {
        database.isEmpty ? Array(secret.utf8) : Array(secret.utf8) + [0] + Array(database.utf8)
    }

    func tag(_ campaign: Int64, _ message: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(purpose):\(campaign).\(message)".utf8), using: SymmetricKey(data: secret))
        return code.prefix(length).map { String(format: "%02x", $0) }.joined()
    }

    /// `C.M.TAG` back to (C, M) when the tag holds; compared in constant time.
    func decode(_ text: Substring) -> (campaign: Int64, message: Int64)? {
        let parts = text.split(separator: ".")
        guard parts.count == 3, let campaign = Int64(parts[0]), let message = Int64(parts[1]) else { return nil }
        return ConstantTime.equal(tag(campaign, message).utf8, parts[2].lowercased().utf8) ? (campaign, message) : nil
    }
}
