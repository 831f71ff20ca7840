import CSV

/// A recipients CSV as a header and rows: the encoding found (BOM, else UTF-8, or as
/// given), the delimiter sniffed or given, the header checked.
struct RecipientTable {
    let path: String
    let delimiter: UInt8?
    let encoding: String?

    init(path: String, delimiter: UInt8? = nil, encoding: String? = nil) {
        self.path = path
        self.delimiter = delimiter
        self.encoding = encoding
    }

    struct Header {
        var columns: [String]
        var delimiter: UInt8
    }

    private struct Stop: Error {}

    /// Reads only as far as the header row.
    func header() throws -> Header {
        var found: Header?
        do {
            try read { fields, delimiter in
                found = try Self.header(from: fields.record, delimiter: delimiter, path: path)
                throw Stop()
            }
        } catch is Stop {}
        guard let found else { throw BroadsideError.input("\(path): the file is empty; the first line must name the columns (email, first_name, …)") }
        return found
    }

    /// Calls `body` with every row after the header.
    func forEachRow(_ body: (CSVRecord) throws -> Void) throws {
        try forEachRowFields { try body($0.record) }
    }

    /// Calls `body` with every row after the header, lent as bytes (see `CSVFields`), and
    /// `bytesRead` with how much of the file is read after each piece of it.
    func forEachRowFields(_ body: (CSVFields) throws -> Void, bytesRead: ((Int) -> Void)? = nil) throws {
        var isHeader = true
        try read({ fields, _ in
            if isHeader { isHeader = false; return }
            try body(fields)
        }, bytesRead: bytesRead)
    }

    private static func header(from record: CSVRecord, delimiter: UInt8, path: String) throws -> Header {
        var columns: [String] = []
        var seen: [String: Int] = [:]
        for (index, name) in record.fields.enumerated() {
            let trimmed = String(name.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
            guard !trimmed.isEmpty else {
                throw BroadsideError.input("\(path): line \(record.line): column \(index + 1) of the header has no name; name it or delete the column")
            }
            if let first = seen[trimmed.lowercased()] {
                throw BroadsideError.input("\(path): line \(record.line): the header names '\(trimmed)' twice (columns \(first + 1) and \(index + 1)); rename one")
            }
            seen[trimmed.lowercased()] = index
            columns.append(trimmed)
        }
        return Header(columns: columns, delimiter: delimiter)
    }

    /// Streams every record, transcoding to UTF-8 first where the file is in another encoding.
    private func read(_ onRecord: (CSVFields, UInt8) throws -> Void, bytesRead: ((Int) -> Void)? = nil) throws {
        var parser: CSVParser?
        var transcoder: Transcoder?
        var started = false
        var read = 0
        do {
            try ByteSource(path: path).forEachChunk { chunk in
                read += chunk.count
                defer { bytesRead?(read) }
                var bytes = chunk
                if !started {
                    started = true
                    let detected = Self.detectEncoding(chunk)
                    bytes.removeFirst(detected.bomLength)
                    if encoding == nil, detected.encoding == nil, let guess = Self.bomlessUTF16(chunk) {
                        throw BroadsideError.input("\(path) looks like \(guess) without a byte-order mark (every other byte is zero); give --encoding \(guess.lowercased())")
                    }
                    if let name = encoding.map(Self.iconvName) ?? detected.encoding {
                        if name != "UTF-8" { transcoder = try Transcoder(from: name) }
                    }
                }
                if let transcoder { bytes = try transcoder.convert(bytes) }
                if parser == nil {
                    parser = CSVParser(delimiter: delimiter ?? DelimiterSniffer.sniff(bytes))
                }
                guard var current = parser else { return }
                let delimiter = current.delimiter
                try current.feedFields(bytes) { try onRecord($0, delimiter) }
                parser = current
            }
            try transcoder?.finish()
            if var current = parser {
                let delimiter = current.delimiter
                try current.finishFields { try onRecord($0, delimiter) }
            }
        } catch let error as CSVError {
            throw BroadsideError.input("\(path): \(error)")
        }
    }

    /// The encoding a byte-order mark announces, and the mark's length.
    static func detectEncoding(_ start: [UInt8]) -> (encoding: String?, bomLength: Int) {
        if start.starts(with: [0xEF, 0xBB, 0xBF]) { return ("UTF-8", 3) }
        if start.starts(with: [0xFF, 0xFE]) { return ("UTF-16LE", 2) }
        if start.starts(with: [0xFE, 0xFF]) { return ("UTF-16BE", 2) }
        return (nil, 0)
    }

    /// UTF-16 without a BOM (which some exports write): most ASCII text then has a zero at
    /// every odd byte (little-endian) or every even one (big-endian).
    static func bomlessUTF16(_ start: [UInt8]) -> String? {
        let sample = start.prefix(256)
        guard sample.count >= 8 else { return nil }
        let even = stride(from: 0, to: sample.count, by: 2).filter { sample[sample.startIndex + $0] == 0 }.count
        let odd = stride(from: 1, to: sample.count, by: 2).filter { sample[sample.startIndex + $0] == 0 }.count
        let pairs = sample.count / 2
        if odd * 10 >= pairs * 8 && even * 10 < pairs { return "UTF-16LE" }
        if even * 10 >= pairs * 8 && odd * 10 < pairs { return "UTF-16BE" }
        return nil
    }

    /// `--encoding` as users write it, as iconv names it.
    static func iconvName(_ name: String) -> String {
        switch name.lowercased().replacing("_", with: "-") {
        case "utf8", "utf-8": return "UTF-8"
        case "utf16", "utf-16": return "UTF-16"
        case "utf-16le", "utf16le": return "UTF-16LE"
        case "utf-16be", "utf16be": return "UTF-16BE"
        case "gbk", "gb2312", "gb18030", "cp936": return "GB18030"
        case "windows-1252", "cp1252", "win1252": return "WINDOWS-1252"
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1": return "ISO-8859-1"
        default: return name.uppercased()
        }
    }
}
