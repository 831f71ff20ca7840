/// A contact's merge fields as a flat JSON object of strings. Written by hand: the
/// import writes one per row and the sender reads one per message, and Foundation's
/// coders cost more than the database work around them.
enum FieldsJSON {
    static func encode(_ fields: [String: String], order: [String]) -> String {
        var keys = order.filter { fields[$0] != nil }
        if keys.count != fields.count {
            let ordered = Set(order)
            keys += fields.keys.filter { !ordered.contains($0) }.sorted()
        }
        return encode(keys: keys, values: keys.map { fields[$0] ?? "" })
    }

    /// `keys[i]: values[i]` in order, written into one byte buffer.
    static func encode(keys: [String], values: [String]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(keys.reduce(2) { $0 + $1.utf8.count + 6 } + values.reduce(0) { $0 + $1.utf8.count })
        output.append(UInt8(ascii: "{"))
        for index in keys.indices {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            quote(keys[index], into: &output)
            output.append(UInt8(ascii: ":"))
            quote(index < values.count ? values[index] : "", into: &output)
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func quote(_ text: String, into output: inout [UInt8]) {
        output.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x0A: output += [0x5C, UInt8(ascii: "n")]
            case 0x0D: output += [0x5C, UInt8(ascii: "r")]
            case 0x09: output += [0x5C, UInt8(ascii: "t")]
            case ..<0x20: output += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: output.append(byte)
            }
        }
        output.append(0x22)
    }

    /// Reads what `encode` wrote (and any flat JSON object of strings); nil if it is not one.
    static func decode(_ json: String) -> [String: String]? {
        var bytes = Array(json.utf8)[...]
        var result: [String: String] = [:]
        func skipSpace() { while let b = bytes.first, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { bytes = bytes.dropFirst() } }
        func string() -> String? {
            guard bytes.first == 0x22 else { return nil }
            bytes = bytes.dropFirst()
            var out: [UInt8] = []
            while let b = bytes.first {
                bytes = bytes.dropFirst()
                if b == 0x22 { return String(decoding: out, as: UTF8.self) }
                if b != 0x5C { out.append(b); continue }
                guard let e = bytes.first else { return nil }
                bytes = bytes.dropFirst()
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard bytes.count >= 4, let code = UInt32(String(decoding: bytes.prefix(4), as: UTF8.self), radix: 16) else { return nil }
                    bytes = bytes.dropFirst(4)
                    var scalarValue = code
                    // A surrogate pair (as JSONEncoder writes astral characters).
                    if (0xD800..<0xDC00).contains(code), bytes.starts(with: Array("\\u".utf8)), bytes.count >= 6,
                       let low = UInt32(String(decoding: bytes.dropFirst(2).prefix(4), as: UTF8.self), radix: 16), (0xDC00..<0xE000).contains(low) {
                        bytes = bytes.dropFirst(6)
                        scalarValue = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(scalarValue) else { return nil }
                    out += Array(String(scalar).utf8)
                default: out.append(e)
                }
            }
            return nil
        }
        skipSpace()
        guard bytes.first == UInt8(ascii: "{") else { return nil }
        bytes = bytes.dropFirst()
        skipSpace()
        if bytes.first == UInt8(ascii: "}") { return result }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard bytes.first == UInt8(ascii: ":") else { return nil }
            bytes = bytes.dropFirst()
            skipSpace()
            guard let value = string() else { return nil }
            result[key] = value
            skipSpace()
            if bytes.first == UInt8(ascii: ",") { bytes = bytes.dropFirst(); continue }
            if bytes.first == UInt8(ascii: "}") { return result }
            return nil
        }
    }
}
