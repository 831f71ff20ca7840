import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636): the browser sign-in sends the S256 challenge,
/// the code exchange the verifier, so a code caught on its way back is of no use alone.
public struct PKCE: Sendable {
    public let verifier: String
    public var challenge: String { Self.challenge(for: verifier) }

    public init() {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        verifier = SignedAssertion.base64URL(Data(bytes))
    }

    public static func challenge(for verifier: String) -> String {
        SignedAssertion.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }
}
