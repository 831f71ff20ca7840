import Testing
@testable import CSV

private func parse(_ text: String, delimiter: Character = ",", chunk: Int = .max) throws -> [CSVRecord] {
    var parser = CSVParser(delimiter: UInt8(ascii: delimiter.unicodeScalars.first ?? ","))
    var records: [CSVRecord] = []
    let bytes = Array(text.utf8)
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        try parser.feed(bytes[start..<end]) { records.append($0) }
        start = end
    }
    try parser.finish { records.append($0) }
    return records
}

@Suite("CSV parser")
struct CSVParserTests {
    @Test func readsQuotedFieldsWithDelimitersQuotesAndLineBreaks() throws {
        let records = try parse("name,note\r\n\"Lovelace, Ada\",\"said \"\"hi\"\"\nand left\"\r\nB,plain\r\n")
        #expect(records.map(\.fields) == [["name", "note"], ["Lovelace, Ada", "said \"hi\"\nand left"], ["B", "plain"]])
        #expect(records.map(\.line) == [1, 2, 4])
    }

    @Test func keepsCRLFInsideQuotedFields() throws {
        let records = try parse("a\r\n\"x\r\ny\"\r\n")
        #expect(records[1].fields == ["x\r\ny"])
    }

    @Test func acceptsEveryLineEnding() throws {
        for newline in ["\r\n", "\n", "\r"] {
            let records = try parse(["h1,h2", "1,2", "3,4"].joined(separator: newline) + newline)
            #expect(records.map(\.fields) == [["h1", "h2"], ["1", "2"], ["3", "4"]], "line ending \(newline.debugDescription)")
            #expect(records.map(\.line) == [1, 2, 3])
        }
    }

    @Test func skipsBlankLinesAndReadsALastLineWithoutNewline() throws {
        let records = try parse("h\n\n1\n\n\n2")
        #expect(records.map(\.fields) == [["h"], ["1"], ["2"]])
        #expect(records.map(\.line) == [1, 3, 6])
    }

    @Test func keepsEmptyFields() throws {
        #expect(try parse("a,,c\n,,\n").map(\.fields) == [["a", "", "c"], ["", "", ""]])
    }

    @Test func reportsTheLineWhereAnUnterminatedQuoteOpened() throws {
        #expect(throws: CSVError(.unterminatedQuote, line: 3)) {
            _ = try parse("h,x\n1,2\n3,\"open\n4,5\n6,7\n")
        }
    }

    @Test func reportsInvalidUTF8WithItsLine() throws {
        var parser = CSVParser()
        #expect(throws: CSVError(.invalidEncoding("UTF-8"), line: 2)) {
            try parser.feed(Array("h\n".utf8) + [0xC3, 0x28] + Array("\n".utf8)) { _ in }
        }
    }

    @Test func keepsTextAfterAClosingQuoteAsSpreadsheetsDo() throws {
        #expect(try parse("\"a\"b,c\n\"x\ny\"z\n").map(\.fields) == [["ab", "c"], ["x\nyz"]])
    }

    @Test func resultDoesNotDependOnChunkBoundaries() throws {
        let text = "e,n\r\n\"a,b\",\"x\r\ny\"\r\nc,\"\"\"q\"\"\"\r\n"
        let whole = try parse(text)
        for size in 1...7 {
            #expect(try parse(text, chunk: size) == whole, "chunk size \(size)")
        }
    }

    @Test func keepsTheRawRecordForARejectsFile() throws {
        let records = try parse("h,i\n\"a,1\",b\n")
        #expect(String(decoding: records[1].raw, as: UTF8.self) == "\"a,1\",b")
    }

    @Test func sniffsTheDelimiter() {
        #expect(DelimiterSniffer.sniff(Array("email;name;city\n".utf8)) == UInt8(ascii: ";"))
        #expect(DelimiterSniffer.sniff(Array("email\tname\n".utf8)) == 0x09)
        #expect(DelimiterSniffer.sniff(Array("\"a;b\",c,d\n".utf8)) == UInt8(ascii: ","))
        #expect(DelimiterSniffer.sniff(Array("email|name\n".utf8)) == UInt8(ascii: "|"))
        #expect(DelimiterSniffer.sniff(Array("email\n".utf8)) == UInt8(ascii: ","))
    }
}

/// Any table written by a correct CSV writer reads back identically.
@Suite("CSV round trip")
struct CSVRoundTripTests {
    /// A small deterministic generator (SplitMix64) so that a failure can be replayed by its seed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let alphabet: [String] = ["a", "Z", "0", " ", ",", ";", "\t", "|", "\"", "\n", "\r\n", "é", "王", "😀", "'", "="]

    @Test(arguments: [","  as Character, ";", "\t", "|"])
    func anyWrittenTableReadsBackIdentically(delimiter: Character) throws {
        for seed in UInt64(1)...200 {
            var random = Generator(state: seed)
            let columns = 1 + random.below(5)
            var table: [[String]] = []
            for _ in 0..<(1 + random.below(6)) {
                table.append((0..<columns).map { _ in
                    (0..<random.below(6)).map { _ in Self.alphabet[random.below(Self.alphabet.count)] }.joined()
                })
            }
            // A row of one empty field is a blank line, which readers skip: give it content.
            table = table.map { $0.count == 1 && $0[0].isEmpty ? ["x"] : $0 }
            let newline = ["\r\n", "\n"][random.below(2)]
            let text = table.map { CSVWriter.record($0, delimiter: delimiter) }.joined(separator: newline) + (random.below(2) == 0 ? newline : "")
            let read = try parse(text, delimiter: delimiter, chunk: 1 + random.below(16)).map(\.fields)
            #expect(read == table, "seed \(seed)")
        }
    }
}

@Suite("Transcoding")
struct TranscoderTests {
    @Test func convertsGB18030ToUTF8AcrossChunkBoundaries() throws {
        // "王磊" in GB18030.
        let gb: [UInt8] = [0xCD, 0xF5, 0xC0, 0xDA]
        let transcoder = try Transcoder(from: "GB18030")
        var output: [UInt8] = []
        for byte in gb { output += try transcoder.convert([byte]) }
        try transcoder.finish()
        #expect(String(decoding: output, as: UTF8.self) == "王磊")
    }

    @Test func reportsAnInvalidSequenceWithItsLine() throws {
        let transcoder = try Transcoder(from: "UTF-16LE")
        // Line 2 holds an unpaired low surrogate.
        let bytes: [UInt8] = [0x61, 0x00, 0x0A, 0x00, 0x00, 0xDC, 0x62, 0x00]
        #expect(throws: CSVError(.invalidEncoding("UTF-16LE"), line: 2)) { _ = try transcoder.convert(bytes) }
    }

    @Test func refusesAnUnknownEncoding() {
        #expect(throws: CSVError(.unknownEncoding("NOT-AN-ENCODING"), line: 0)) { _ = try Transcoder(from: "NOT-AN-ENCODING") }
    }
}

@Suite("CSV for spreadsheets")
struct SpreadsheetCSVTests {
    /// OWASP's CSV injection: a cell a spreadsheet would run as a formula is made inert.
    @Test func cellsThatWouldBeFormulasGetALeadingQuote() {
        #expect(CSVWriter.spreadsheetRecord(["=cmd|'/Ccalc'!A0@evil.test", "+1", "-2", "@SUM(A1)", "\tx", "ok", "a=b"])
                == "'=cmd|'/Ccalc'!A0@evil.test,'+1,'-2,'@SUM(A1),'\tx,ok,a=b")
        #expect(CSVWriter.spreadsheetRecord(["=1,2"]) == "\"'=1,2\"")
    }
}

@Suite("UTF-8 check")
struct UTF8CheckTests {
    private func check(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer(UTF8Check.isValid)
    }

    @Test func agreesWithTheStandardLibraryOnEdgeCases() {
        let cases: [[UInt8]] = [
            [], Array("plain".utf8), Array("王磊 Müller 😀".utf8),
            [0xC0, 0x80], [0xC1, 0xBF],                 // overlong two-byte forms
            [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],     // overlong three-byte forms
            [0xF0, 0x80, 0x80, 0x80],                   // overlong four-byte form
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],     // surrogates
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], // above U+10FFFF
            [0xF4, 0x8F, 0xBF, 0xBF], [0xEF, 0xBF, 0xBF], [0xDF, 0xBF], // the largest of each length
            [0xC3], [0xE4, 0xB8], [0xF0, 0x9F, 0x98],   // cut short
            [0x80], [0xBF], [0xFE], [0xFF], [0x61, 0xC3, 0x28],
        ]
        for bytes in cases {
            #expect(check(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }

    @Test func agreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        // Mostly valid text with bytes changed here and there, so that both answers occur often.
        let pieces = Array("aé王😀".utf8)
        for _ in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
            if !bytes.isEmpty, Bool.random(using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            #expect(check(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }
}

@Suite("CSV fields lent as bytes")
struct CSVFieldsTests {
    @Test func theLentFieldsAreTheRecordsFieldsAndItsRawText() throws {
        var parser = CSVParser()
        var lent: [([String], String, Int, Bool)] = []
        let text = "a,\"b,\"\"c\"\"\",\nx\"y,\"line\nbreak\",\"q\"r\n"
        try parser.feedFields(Array(text.utf8)) { fields in
            lent.append(((0..<fields.count).map { String(decoding: fields[$0], as: UTF8.self) }, String(decoding: fields.raw, as: UTF8.self),
                         fields.line, fields.hasStrayQuote))
        }
        try parser.finishFields { _ in Issue.record("every record ended with its line break") }
        #expect(lent.map(\.0) == [["a", "b,\"c\"", ""], ["x\"y", "line\nbreak", "qr"]])
        #expect(lent.map(\.1) == ["a,\"b,\"\"c\"\"\",", "x\"y,\"line\nbreak\",\"q\"r"])
        #expect(lent.map(\.2) == [1, 2])
        #expect(lent.map(\.3) == [false, true])
        #expect(try parse(text).map(\.fields) == lent.map(\.0))
    }
}
