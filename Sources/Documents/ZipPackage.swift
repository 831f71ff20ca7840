/// A Word or OpenDocument file: a ZIP package. Read entry by entry, and written anew with
/// some entries replaced while every other one is copied byte for byte, compressed data
/// and all (styles, images, fonts stay exactly as they were).
struct ZipPackage {
    struct Entry {
        var name: String
        var flags: UInt16
        var method: UInt16
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
        /// The entry's record in the central directory, as the file has it.
        var centralRecord: ArraySlice<UInt8>
    }

    let bytes: [UInt8]
    let entries: [Entry]

    init(bytes: [UInt8], file: String) throws(DocumentError) {
        self.bytes = bytes
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw DocumentError("\(file) is an encrypted (password-protected) document or an old binary .doc: save it unprotected as .docx (or .odt) and use that")
        }
        guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
            throw DocumentError("\(file) is not a .docx or .odt document (it is no ZIP package): save it from Word or LibreOffice as .docx or .odt")
        }
        // The end of central directory record, within the last 64 KiB (its comment may be that long).
        var end = -1
        var index = bytes.count - 22
        while index >= max(0, bytes.count - 65_557) {
            if bytes[index] == 0x50, bytes[index + 1] == 0x4B, bytes[index + 2] == 0x05, bytes[index + 3] == 0x06 { end = index; break }
            index -= 1
        }
        guard end >= 0 else { throw DocumentError("\(file) is damaged: its ZIP directory is missing (was the download cut short?)") }
        let count = Int(Self.u16(bytes, end + 10)), size = Int(Self.u32(bytes, end + 12)), offset = Int(Self.u32(bytes, end + 16))
        guard count != 0xFFFF, offset != 0xFFFF_FFFF else { throw DocumentError("\(file) is a ZIP64 package, which no document needs: save it again from Word or LibreOffice") }
        guard offset + size <= end else { throw DocumentError("\(file) is damaged: its ZIP directory points outside the file") }
        var entries: [Entry] = []
        var at = offset
        for _ in 0..<count {
            guard at + 46 <= bytes.count, Self.u32(bytes, at) == 0x0201_4B50 else { throw DocumentError("\(file) is damaged: a ZIP directory record is broken") }
            let nameLength = Int(Self.u16(bytes, at + 28)), extraLength = Int(Self.u16(bytes, at + 30)), commentLength = Int(Self.u16(bytes, at + 32))
            let recordEnd = at + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= bytes.count else { throw DocumentError("\(file) is damaged: a ZIP directory record is cut short") }
            let entry = Entry(name: String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self), flags: Self.u16(bytes, at + 8),
                              method: Self.u16(bytes, at + 10), compressedSize: Int(Self.u32(bytes, at + 20)), uncompressedSize: Int(Self.u32(bytes, at + 24)),
                              localHeaderOffset: Int(Self.u32(bytes, at + 42)), centralRecord: bytes[at..<recordEnd])
            if entry.flags & 1 != 0 { throw DocumentError("\(file) is encrypted (\(entry.name)): save it without a password and use that") }
            entries.append(entry)
            at = recordEnd
        }
        self.entries = entries
    }

    /// The entry's data, decompressed; nil when there is no such entry.
    func data(_ name: String, file: String) throws(DocumentError) -> [UInt8]? {
        guard let entry = entries.first(where: { $0.name == name }) else { return nil }
        let start = try dataStart(entry, file: file)
        guard start + entry.compressedSize <= bytes.count else { throw DocumentError("\(file) is damaged: \(name) is cut short") }
        let raw = bytes[start..<(start + entry.compressedSize)]
        switch entry.method {
        case 0: return Array(raw)
        case 8:
            guard let data = Deflate.decompress(raw, expectedSize: entry.uncompressedSize) else { throw DocumentError("\(file) is damaged: \(name) does not decompress") }
            return data
        default:
            throw DocumentError("\(file): \(name) uses ZIP compression method \(entry.method), which Word and LibreOffice do not write")
        }
    }

    private func dataStart(_ entry: Entry, file: String) throws(DocumentError) -> Int {
        let at = entry.localHeaderOffset
        guard at + 30 <= bytes.count, Self.u32(bytes, at) == 0x0403_4B50 else { throw DocumentError("\(file) is damaged: \(entry.name) has no local header") }
        return at + 30 + Int(Self.u16(bytes, at + 26)) + Int(Self.u16(bytes, at + 28))
    }

    /// The package with `replacements` (entry name → new data) deflated in place of those
    /// entries, and `removing` left out; every other entry copied as it is.
    func rewritten(replacing replacements: [String: [UInt8]], removing: Set<String> = []) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + replacements.values.reduce(0) { $0 + $1.count / 4 })
        var directory: [UInt8] = []
        var count = 0
        for entry in entries where !removing.contains(entry.name) {
            let offset = output.count
            count += 1
            if let data = replacements[entry.name] {
                let compressed = Deflate.compress(data)
                let crc = Deflate.crc32(data)
                let name = Array(entry.name.utf8)
                let flags = entry.flags & 0x0800                     // keep only "the name is UTF-8"
                let time = Self.u16(bytes, entry.centralRecord.startIndex + 12), date = Self.u16(bytes, entry.centralRecord.startIndex + 14)
                output += [0x50, 0x4B, 0x03, 0x04]
                Self.put16(&output, 20); Self.put16(&output, flags); Self.put16(&output, 8); Self.put16(&output, time); Self.put16(&output, date)
                Self.put32(&output, crc); Self.put32(&output, UInt32(compressed.count)); Self.put32(&output, UInt32(data.count))
                Self.put16(&output, UInt16(name.count)); Self.put16(&output, 0)
                output += name
                output += compressed
                let record = entry.centralRecord
                directory += [0x50, 0x4B, 0x01, 0x02]
                Self.put16(&directory, Self.u16(bytes, record.startIndex + 4)); Self.put16(&directory, 20)
                Self.put16(&directory, flags); Self.put16(&directory, 8); Self.put16(&directory, time); Self.put16(&directory, date)
                Self.put32(&directory, crc); Self.put32(&directory, UInt32(compressed.count)); Self.put32(&directory, UInt32(data.count))
                Self.put16(&directory, UInt16(name.count)); Self.put16(&directory, 0); Self.put16(&directory, 0)
                Self.put16(&directory, 0); Self.put16(&directory, Self.u16(bytes, record.startIndex + 36)); Self.put32(&directory, Self.u32(bytes, record.startIndex + 38))
                Self.put32(&directory, UInt32(offset))
                directory += name
            } else {
                // The local header, the compressed data and any data descriptor, byte for byte.
                let start = entry.localHeaderOffset
                let dataStart = start + 30 + Int(Self.u16(bytes, start + 26)) + Int(Self.u16(bytes, start + 28))
                var end = dataStart + entry.compressedSize
                if entry.flags & 0x08 != 0 { end += end + 4 <= bytes.count && Self.u32(bytes, end) == 0x0807_4B50 ? 16 : 12 }
                output += bytes[start..<min(end, bytes.count)]
                var record = Array(entry.centralRecord)
                record.replaceSubrange(42..<46, with: Self.le32(UInt32(offset)))
                directory += record
            }
        }
        let directoryOffset = output.count
        output += directory
        output += [0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0]
        Self.put16(&output, UInt16(count)); Self.put16(&output, UInt16(count))
        Self.put32(&output, UInt32(directory.count)); Self.put32(&output, UInt32(directoryOffset)); Self.put16(&output, 0)
        return output
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24 }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
    static func put16(_ out: inout [UInt8], _ v: UInt16) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
    static func put32(_ out: inout [UInt8], _ v: UInt32) { out += le32(v) }
}
