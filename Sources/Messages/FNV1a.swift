/// FNV-1a, 64 bits: a fast fingerprint that tells two texts apart (MIME boundaries,
/// template snapshots, bounce messages recorded once). Not for anything an adversary
/// could aim at: that is SHA-256's and HMAC's work (`Signing`).
public enum FNV1a {
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
