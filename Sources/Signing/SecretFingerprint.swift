import Crypto
import Foundation

/// Which secret signed a campaign's links, without keeping the secret: an HMAC of a fixed
/// text under it, 64 bits in hex. Two different secrets give different fingerprints; the
/// fingerprint says nothing that helps to find the secret.
public enum SecretFingerprint {
    public static func of(_ secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("broadside secret fingerprint v1".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return MessageTag.hex(code.prefix(8))
    }
}
