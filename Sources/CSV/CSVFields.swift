/// One record as the parser holds it, lent to the caller for the length of one call: its
/// fields are slices of the parser's buffer (valid UTF-8), so that a caller that only
/// needs bytes (an import writing a million rows) makes no string of them.
public struct CSVFields {
    /// The 1-based line of the file where the record starts.
    public let line: Int
    /// See `CSVRecord.hasStrayQuote`.
    public let hasStrayQuote: Bool
    /// The record as it stood in the file, without its line break.
    public let raw: UnsafeBufferPointer<UInt8>
    let bytes: UnsafeBufferPointer<UInt8>
    let ends: UnsafeBufferPointer<Int>

    public var count: Int { ends.count }

    /// The bytes of field `index`.
    public subscript(index: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]])
    }

    /// A copy that outlives the call, fields as strings.
    public var record: CSVRecord {
        var record = CSVRecord(fields: (0..<count).map { String(decoding: self[$0], as: UTF8.self) }, line: line, raw: Array(raw))
        record.hasStrayQuote = hasStrayQuote
        return record
    }
}
