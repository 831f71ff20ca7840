/// A streaming, byte-level RFC 4180 parser.
///
/// Feed it bytes in chunks of any size; it hands back each complete record with the
/// line it started on. Quoted fields may hold delimiters, doubled quotes and line
/// breaks; CRLF, LF and lone CR all end a line; blank lines are skipped; text after a
/// closing quote is kept (`"a"b` is `ab`). Input must
/// already be UTF-8 (transcode first); invalid UTF-8 is an error naming its line.
public struct CSVParser: Sendable {
    private enum State: Sendable {
        case fieldStart
        case unquoted
        case quoted
        case quoteInQuoted
    }

    public let delimiter: UInt8
    private var state: State = .fieldStart
    /// The record's fields so far, end to end, and where each ends: no string is made
    /// unless the caller asks for one (an import reads a million records).
    private var fieldBytes: [UInt8] = []
    private var fieldEnds: [Int] = []
    private var raw: [UInt8] = []
    private var line = 1
    private var recordLine = 1
    private var quoteLine = 1
    private var lastWasCR = false
    private var recordHasContent = false
    /// A quote closed a field before its end (`"Bob "the builder""`): the record is read, and says so.
    private var recordHasStrayQuote = false

    public init(delimiter: UInt8 = UInt8(ascii: ",")) {
        self.delimiter = delimiter
        fieldBytes.reserveCapacity(256)
        fieldEnds.reserveCapacity(16)
        raw.reserveCapacity(256)
    }

    /// Parses `bytes`, calling `onRecord` for each record completed within them.
    public mutating func feed(_ bytes: [UInt8], onRecord: (CSVRecord) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try feedFields($0) { try onRecord($0.record) } }
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>, onRecord: (CSVRecord) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try feedFields($0) { try onRecord($0.record) } }
    }

    /// As `feed`, lending each record's bytes instead of making strings of them.
    public mutating func feedFields(_ bytes: [UInt8], onRecord: (CSVFields) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try feedFields($0, onRecord: onRecord) }
    }

    /// The parser proper: not generic, so that it is compiled for bytes in memory once.
    public mutating func feedFields(_ bytes: UnsafeBufferPointer<UInt8>, onRecord: (CSVFields) throws -> Void) throws {
        var index = 0
        let count = bytes.count
        while index < count {
            // Fast path: a run of ordinary bytes inside a field is copied at once.
            if !lastWasCR, state != .quoteInQuoted {
                let quoted = state == .quoted
                var end = index
                while end < count {
                    let b = bytes[end]
                    if b == 0x22 || b == 0x0A || b == 0x0D || (!quoted && b == delimiter) { break }
                    end += 1
                }
                if end > index {
                    let run = UnsafeBufferPointer(rebasing: bytes[index..<end])
                    fieldBytes.append(contentsOf: run)
                    raw.append(contentsOf: run)
                    if !quoted {
                        state = .unquoted
                        recordHasContent = true
                    }
                    index = end
                    continue
                }
            }
            let byte = bytes[index]
            index += 1
            if lastWasCR {
                lastWasCR = false
                // The LF of a CRLF pair: the line break was already counted.
                if byte == 0x0A {
                    if state == .quoted { fieldBytes.append(byte); raw.append(byte) }
                    continue
                }
            }
            switch state {
            case .quoted:
                if byte == 0x22 {
                    state = .quoteInQuoted
                } else {
                    if byte == 0x0A || byte == 0x0D { line += 1; lastWasCR = byte == 0x0D }
                    fieldBytes.append(byte)
                }
                raw.append(byte)
            case .quoteInQuoted:
                if byte == 0x22 {
                    fieldBytes.append(byte)
                    raw.append(byte)
                    state = .quoted
                } else if byte == delimiter {
                    raw.append(byte)
                    try endField()
                } else if byte == 0x0A || byte == 0x0D {
                    try endRecord(onRecord)
                    line += 1
                    lastWasCR = byte == 0x0D
                } else {
                    // `"a"b`: read as `ab`, as spreadsheets and Python's csv do, so that one
                    // sloppy row is judged (and rejected) on its own instead of failing the file.
                    fieldBytes.append(byte)
                    raw.append(byte)
                    state = .unquoted
                    recordHasStrayQuote = true
                }
            case .fieldStart, .unquoted:
                if byte == 0x22 && state == .fieldStart {
                    state = .quoted
                    quoteLine = line
                    recordHasContent = true
                    raw.append(byte)
                } else if byte == delimiter {
                    recordHasContent = true
                    raw.append(byte)
                    try endField()
                } else if byte == 0x0A || byte == 0x0D {
                    if recordHasContent || fieldBytes.count > (fieldEnds.last ?? 0) {
                        try endRecord(onRecord)
                    }
                    line += 1
                    lastWasCR = byte == 0x0D
                    recordLine = line
                } else {
                    // A quote inside an unquoted field is kept as it is, as spreadsheets do.
                    state = .unquoted
                    recordHasContent = true
                    fieldBytes.append(byte)
                    raw.append(byte)
                }
            }
        }
    }

    /// Ends the input: returns the last record if the file did not end with a line break.
    public mutating func finish(onRecord: (CSVRecord) throws -> Void) throws {
        try finishFields { try onRecord($0.record) }
    }

    public mutating func finishFields(onRecord: (CSVFields) throws -> Void) throws {
        switch state {
        case .quoted:
            throw CSVError(.unterminatedQuote, line: quoteLine)
        case .quoteInQuoted, .unquoted:
            try endRecord(onRecord)
        case .fieldStart:
            if recordHasContent { try endRecord(onRecord) }
        }
    }

    private mutating func endField() throws {
        let start = fieldEnds.last ?? 0
        let valid = fieldBytes.withUnsafeBufferPointer { UTF8Check.isValid(UnsafeBufferPointer(rebasing: $0[start...])) }
        guard valid else { throw CSVError(.invalidEncoding("UTF-8"), line: line) }
        fieldEnds.append(fieldBytes.count)
        state = .fieldStart
    }

    private mutating func endRecord(_ onRecord: (CSVFields) throws -> Void) throws {
        try endField()
        let (line, hasStrayQuote) = (recordLine, recordHasStrayQuote)
        try fieldBytes.withUnsafeBufferPointer { bytes in
            try fieldEnds.withUnsafeBufferPointer { ends in
                try raw.withUnsafeBufferPointer { raw in
                    try onRecord(CSVFields(line: line, hasStrayQuote: hasStrayQuote, raw: raw, bytes: bytes, ends: ends))
                }
            }
        }
        fieldBytes.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
        recordHasContent = false
        recordHasStrayQuote = false
        recordLine = self.line + 1
    }
}
