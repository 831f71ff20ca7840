import Crypto
import Foundation

/// A VERP return path, `bounce+C.M.MAC@bounce-domain`: each message's own envelope
/// sender, naming its campaign (C) and message (M) and signed (MAC), so that a bounce
/// sent back to it maps to its message and a forged one does not.
public struct VERPAddress: Sendable {
    public let domain: String
    /// Kept as bytes: swift-crypto's SymmetricKey is not Sendable.
    private let secret: [UInt8]

    /// `secret` comes from the environment; never from a file or the database. A domain of
    /// `*` decodes addresses at any domain (reading bounces; the MAC still decides).
    public init(domain: String, secret: String) {
        self.domain = domain.lowercased()
        self.secret = Array(secret.utf8)
    }

    /// The return path for one message.
    public func address(campaign: Int64, message: Int64) -> String {
        "bounce+\(campaign).\(message).\(mac(campaign, message))@\(domain)"
    }

    /// The campaign and message an address names, if it is one of ours and its MAC holds.
    public func decode(_ address: String) -> (campaign: Int64, message: Int64)? {
        let lower = address.lowercased()
        guard lower.hasPrefix("bounce+"), let at = lower.lastIndex(of: "@"), domain == "*" || lower[lower.index(after: at)...] == domain else { return nil }
        let parts = lower[lower.index(lower.startIndex, offsetBy: 7)..<at].split(separator: ".")
        guard parts.count == 3, let campaign = Int64(parts[0]), let message = Int64(parts[1]) else { return nil }
        // Compared in constant time, as any MAC check should be.
        let expected = Array(mac(campaign, message).utf8)
        let given = Array(parts[2].utf8)
        guard expected.count == given.count else { return nil }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0 ? (campaign, message) : nil
    }

    /// 12 hex digits (48 bits) of HMAC-SHA256: short enough for a local part, too long to guess.
    private func mac(_ campaign: Int64, _ message: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("verp:\(campaign).\(message)".utf8), using: SymmetricKey(data: secret))
        return code.prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
