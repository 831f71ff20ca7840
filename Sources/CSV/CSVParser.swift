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
    private var field: [UInt8] = []
    private var fields: [String] = []
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
        field.reserveCapacity(64)
        raw.reserveCapacity(256)
    }

    /// Parses `bytes`, calling `onRecord` for each record completed within them.
    public mutating func feed(_ bytes: [UInt8], onRecord: (CSVRecord) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try feed($0, onRecord: onRecord) }
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>, onRecord: (CSVRecord) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { try feed($0, onRecord: onRecord) }
    }

    /// The parser proper: not generic, so that it is compiled for bytes in memory once.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, onRecord: (CSVRecord) throws -> Void) throws {
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
                    field.append(contentsOf: run)
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
                    if state == .quoted { field.append(byte); raw.append(byte) }
                    continue
                }
            }
            switch state {
            case .quoted:
                if byte == 0x22 {
                    state = .quoteInQuoted
                } else {
                    if byte == 0x0A || byte == 0x0D { line += 1; lastWasCR = byte == 0x0D }
                    field.append(byte)
                }
                raw.append(byte)
            case .quoteInQuoted:
                if byte == 0x22 {
                    field.append(byte)
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
                    field.append(byte)
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
                    if recordHasContent || !field.isEmpty {
                        try endRecord(onRecord)
                    }
                    line += 1
                    lastWasCR = byte == 0x0D
                    recordLine = line
                } else {
                    // A quote inside an unquoted field is kept as it is, as spreadsheets do.
                    state = .unquoted
                    recordHasContent = true
                    field.append(byte)
                    raw.append(byte)
                }
            }
        }
    }

    /// Ends the input: returns the last record if the file did not end with a line break.
    public mutating func finish(onRecord: (CSVRecord) throws -> Void) throws {
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
        guard let text = String(validating: field, as: UTF8.self) else {
            throw CSVError(.invalidEncoding("UTF-8"), line: line)
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endRecord(_ onRecord: (CSVRecord) throws -> Void) throws {
        try endField()
        var record = CSVRecord(fields: fields, line: recordLine, raw: raw)
        record.hasStrayQuote = recordHasStrayQuote
        fields.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
        recordHasContent = false
        recordHasStrayQuote = false
        recordLine = line + 1
        try onRecord(record)
    }
}
