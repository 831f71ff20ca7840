/// Guesses a file's delimiter among `,` `;` tab and `|` from its first lines.
///
/// Excel in European locales writes `;`, "Unicode text" exports use tabs; the
/// candidate that splits the header line into the most fields, outside quotes, wins.
public enum DelimiterSniffer {
    public static let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")]

    public static func sniff<C: Collection>(_ sample: C) -> UInt8 where C.Element == UInt8 {
        var counts = [Int](repeating: 0, count: candidates.count)
        var inQuotes = false
        for byte in sample {
            if byte == 0x22 { inQuotes.toggle(); continue }
            if inQuotes { continue }
            if byte == 0x0A || byte == 0x0D { break }
            if let index = candidates.firstIndex(of: byte) { counts[index] += 1 }
        }
        guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }), counts[best] > 0 else {
            return UInt8(ascii: ",")
        }
        return candidates[best]
    }
}
