import _CryptoExtras
import Crypto
import Foundation

/// A JSON Web Token signed RS256 (RFC 7515/7519) with an RSA private key in PEM form: an
/// application's proof of identity to an OAuth 2 token endpoint (RFC 7523). Microsoft's
/// client assertion (signed with the key of a certificate registered with the app, named
/// by the certificate's thumbprint) and Google's service-account grant are both one.
public struct SignedAssertion: Sendable {
    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Kept as PEM: swift-crypto's key types are not Sendable.
    private let pem: String

    public init(privateKeyPEM pem: String) throws(KeyError) {
        guard let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) else {
            throw KeyError(description: "the key is not an RSA private key in PEM form")
        }
        guard key.keySizeInBits >= 2048 else { throw KeyError(description: "the RSA key has \(key.keySizeInBits) bits; use 2048 or more") }
        self.pem = pem
    }

    /// `header.claims.signature`, each base64url; the header says RS256 and JWT, plus `extraHeader`.
    /// Values are strings or integers (a claim set's `exp`, `iat`).
    public func token(claims: [String: any Sendable], extraHeader: [String: String] = [:]) throws -> String {
        var header: [String: Any] = ["alg": "RS256", "typ": "JWT"]
        for (name, value) in extraHeader { header[name] = value }
        let signingInput = Self.base64URL(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
            + "." + Self.base64URL(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes]))
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Self.base64URL(signature.rawRepresentation)
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A certificate's thumbprints as JWT headers name them: `x5t` (SHA-1 of its DER form,
    /// what Microsoft's identity platform has long asked for) and `x5t#S256` (SHA-256).
    /// `pem` holds the certificate (`-----BEGIN CERTIFICATE-----`).
    public static func thumbprints(certificatePEM pem: String) throws(KeyError) -> [String: String] {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN CERTIFICATE-----"),
              let end = lines[begin...].firstIndex(of: "-----END CERTIFICATE-----"),
              let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw KeyError(description: "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file")
        }
        return ["x5t": base64URL(Data(Insecure.SHA1.hash(data: der))), "x5t#S256": base64URL(Data(SHA256.hash(data: der)))]
    }
}
