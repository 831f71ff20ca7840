/// Content transfer encodings (RFC 2045): base64 and quoted-printable, both in
/// lines of at most 76 characters.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var output: [UInt8] = []
        encode(bytes, lineLength: nil, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the encoding of `bytes`, with CRLF after every `lineLength` characters if given.
    static func encode<C: Collection>(_ bytes: C, lineLength: Int?, into output: inout [UInt8]) where C.Element == UInt8 {
        output.reserveCapacity(output.count + bytes.count * 4 / 3 + bytes.count / 38 + 4)
        var column = 0
        var iterator = bytes.makeIterator()
        func emit(_ c: UInt8) {
            if let lineLength, column == lineLength {
                output.append(0x0D); output.append(0x0A)
                column = 0
            }
            output.append(c)
            column += 1
        }
        while let b0 = iterator.next() {
            let b1 = iterator.next(), b2 = iterator.next()
            emit(alphabet[Int(b0 >> 2)])
            emit(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            emit(b1.map { alphabet[Int(($0 & 0x0F) << 2 | (b2 ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            emit(b2.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
        if lineLength != nil, column > 0 { output.append(0x0D); output.append(0x0A) }
    }
}

enum QuotedPrintable {
    private static let hex = Array("0123456789ABCDEF".utf8)

    /// Encodes text whose lines are already separated by CRLF; soft line breaks keep every line within 76.
    static func encode(_ text: [UInt8], into output: inout [UInt8]) {
        let count = text.count
        // Every byte grows to at most 3, plus a soft break (3) per 25 escaped bytes.
        let encoded = text.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: count * 4 + 8) { buffer, written in
                var out = 0
                var column = 0
                var index = 0
                while index < count {
                    let byte = source[index]
                    if byte == 0x0D, index + 1 < count, source[index + 1] == 0x0A {
                        buffer[out] = 0x0D; buffer[out + 1] = 0x0A; out += 2
                        column = 0
                        index += 2
                        continue
                    }
                    let atLineEnd = index + 1 == count || (source[index + 1] == 0x0D && index + 2 < count && source[index + 2] == 0x0A)
                    let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                        || ((byte == 0x20 || byte == 0x09) && !atLineEnd)
                    // A dot alone at the start of a line is escaped too, for relays that do not dot-stuff.
                    let needsEscape = !literal || (column == 0 && byte == UInt8(ascii: "."))
                    let width = needsEscape ? 3 : 1
                    if column + width > 75 {
                        buffer[out] = UInt8(ascii: "="); buffer[out + 1] = 0x0D; buffer[out + 2] = 0x0A; out += 3
                        column = 0
                    }
                    if needsEscape {
                        buffer[out] = UInt8(ascii: "=")
                        buffer[out + 1] = hex[Int(byte >> 4)]
                        buffer[out + 2] = hex[Int(byte & 0x0F)]
                        out += 3
                    } else {
                        buffer[out] = byte
                        out += 1
                    }
                    column += width
                    index += 1
                }
                written = out
            }
        }
        output.append(contentsOf: encoded)
    }
}
