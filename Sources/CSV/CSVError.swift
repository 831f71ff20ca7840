/// A CSV file that cannot be read as it is; says where and what to do.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A quoted field was still open at the end of the file.
        case unterminatedQuote
        /// Bytes that are not valid in the file's encoding.
        case invalidEncoding(String)
        /// iconv does not know the encoding asked for.
        case unknownEncoding(String)
    }

    public var kind: Kind
    /// The 1-based line the problem is on (for an open quote: where it opened).
    public var line: Int

    public init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }

    public var description: String {
        switch kind {
        case .unterminatedQuote:
            return "line \(line): a quoted field opens here and is never closed; close the quote (a quote inside a field is written as two quotes \"\")"
        case .invalidEncoding(let encoding):
            return "line \(line): the bytes are not valid \(encoding); give the file's encoding with --encoding (e.g. gb18030, windows-1252, utf-16)"
        case .unknownEncoding(let encoding):
            return "'\(encoding)' is not an encoding this system knows; use utf-8, utf-16, gb18030, windows-1252 or latin-1"
        }
    }
}
