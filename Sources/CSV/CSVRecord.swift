/// One record of a CSV file, with the line on which it starts.
public struct CSVRecord: Sendable, Equatable {
    /// The fields, decoded as UTF-8.
    public var fields: [String]
    /// The 1-based line of the file where the record starts (a quoted field may span lines).
    public var line: Int
    /// The record as it stood in the file, without its line break, for a rejects file.
    public var raw: [UInt8]
    /// A quote ended a quoted field before the field did (`"Bob "the builder""`): its
    /// text was read as spreadsheets read it, which is rarely what the writer meant.
    public var hasStrayQuote = false

    public init(fields: [String], line: Int, raw: [UInt8] = []) {
        self.fields = fields
        self.line = line
        self.raw = raw
    }
}
