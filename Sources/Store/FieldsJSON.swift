/// A contact's merge fields as a flat JSON object of strings. Written by hand: the
/// import writes one per row and the sender reads one per message, and Foundation's
/// coders cost more than the database work around them.
public enum FieldsJSON {
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
        ObjectWriter(keys: keys).encode(values)
    }

    /// Writes objects with the same keys (an import's columns), each key quoted once.
    public struct ObjectWriter: Sendable {
        /// `"key":` for each key, the first with its `{`, the others with their `,`.
        private let prefixes: [[UInt8]]
        private let keyBytes: Int

        public init(keys: [String]) {
            prefixes = keys.enumerated().map { index, key in
                var bytes: [UInt8] = [index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
                FieldsJSON.quote(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                return bytes
            }
            keyBytes = prefixes.reduce(2) { $0 + $1.count }
        }

        public func encode(_ values: [String]) -> String {
            var output: [UInt8] = []
            output.reserveCapacity(keyBytes + values.reduce(2 * prefixes.count) { $0 + $1.utf8.count })
            for index in prefixes.indices {
                writeKey(index, into: &output)
                var value = index < values.count ? values[index] : ""
                value.withUTF8 { FieldsJSON.writeString($0, into: &output) }
            }
            writeEnd(into: &output)
            return String(decoding: output, as: UTF8.self)
        }

        public var count: Int { prefixes.count }

        /// `{"key":` for the first key, `,"key":` for the others; each followed by its value
        /// (`writeString`), the last by `writeEnd`.
        public func writeKey(_ index: Int, into output: inout [UInt8]) {
            output.append(contentsOf: prefixes[index])
        }

        public func writeEnd(into output: inout [UInt8]) {
            if prefixes.isEmpty { output.append(UInt8(ascii: "{")) }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    fileprivate static func quote(_ text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { writeString($0, into: &output) }
    }

    /// `bytes` (valid UTF-8) as a JSON string.
    public static func writeString(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.append(0x22)
        // Most values need no escape: copied whole.
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            output.append(contentsOf: bytes)
        } else {
            for byte in bytes {
                switch byte {
                case 0x22: output.append(0x5C); output.append(0x22)
                case 0x5C: output.append(0x5C); output.append(0x5C)
                case 0x0A: output.append(0x5C); output.append(UInt8(ascii: "n"))
                case 0x0D: output.append(0x5C); output.append(UInt8(ascii: "r"))
                case 0x09: output.append(0x5C); output.append(UInt8(ascii: "t"))
                case ..<0x20: output += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                default: output.append(byte)
                }
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
