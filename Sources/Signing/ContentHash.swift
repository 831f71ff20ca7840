import Crypto

/// SHA-256 of a file's content, in lowercase hex: what freezes a campaign's files.
public enum ContentHash {
    public static func sha256<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        MessageTag.hex(SHA256.hash(data: Array(bytes)))
    }
}
