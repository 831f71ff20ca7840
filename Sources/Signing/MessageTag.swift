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
        tag([campaign, message])
    }

    /// The tag over any dotted numbers (campaign, message, and a link's number).
    func tag(_ numbers: [Int64]) -> String {
        let text = "\(purpose):" + numbers.map(String.init).joined(separator: ".")
        let code = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: secret))
        return Self.hex(code.prefix(length))
    }

    /// Lower-case hex, two digits a byte.
    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `N.N….TAG` with `count` numbers back to them when the tag holds; compared in constant time.
    func decode(_ text: Substring, count: Int) -> [Int64]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == count + 1 else { return nil }
        let numbers = parts.dropLast().compactMap { Int64($0) }
        guard numbers.count == count, numbers.allSatisfy({ $0 >= 0 }) else { return nil }
        return ConstantTime.equal(tag(numbers).utf8, parts[count].lowercased().utf8) ? numbers : nil
    }

    /// `C.M.TAG` back to (C, M) when the tag holds; compared in constant time.
    func decode(_ text: Substring) -> (campaign: Int64, message: Int64)? {
        decode(text, count: 2).map { ($0[0], $0[1]) }
    }
}
