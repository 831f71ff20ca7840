/// A received message read just far enough for bounce parsing: unfolded headers, and
/// a tree of parts with their bodies decoded (base64, quoted-printable). Tolerant: a
/// truncated or malformed message still yields what can be read.
public struct MailMessage: Sendable {
    public var headers: [(name: String, value: String)]
    /// The decoded body of a single part (text as UTF-8, lossy for other charsets).
    public var body: String
    public var parts: [MailMessage]

    public init(bytes: [UInt8], depth: Int = 0) {
        let (headerBytes, bodyBytes) = Self.split(bytes)
        headers = Self.parseHeaders(headerBytes)
        parts = []
        body = ""
        let type = contentType
        let encoding = header("Content-Transfer-Encoding")?.lowercased().trimmingCharacters(in: " \t\r\n") ?? ""
        if type.hasPrefix("multipart/"), let boundary = parameter("boundary", of: "Content-Type"), depth < 8 {
            parts = Self.splitMultipart(bodyBytes, boundary: boundary).map { MailMessage(bytes: $0, depth: depth + 1) }
            body = String(decoding: bodyBytes, as: UTF8.self)
        } else if (type == "message/rfc822" || type == "message/global") && depth < 8 {
            let inner = Self.decode(bodyBytes, encoding: encoding)
            parts = [MailMessage(bytes: inner, depth: depth + 1)]
            body = String(decoding: inner, as: UTF8.self)
        } else {
            body = String(decoding: Self.decode(bodyBytes, encoding: encoding), as: UTF8.self)
        }
    }

    /// The first header of that name (case-insensitive), unfolded.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    public func headers(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    /// The media type, lowercased, without parameters; `text/plain` by default.
    public var contentType: String {
        guard let value = header("Content-Type") else { return "text/plain" }
        return value.split(separator: ";").first.map { $0.trimmingCharacters(in: " \t\r\n").lowercased() } ?? "text/plain"
    }

    /// A parameter of a structured header (`boundary`, `report-type`, `charset`), unquoted.
    public func parameter(_ name: String, of headerName: String) -> String? {
        guard let value = header(headerName) else { return nil }
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: " \t\r\n").lowercased() == name.lowercased() else { continue }
            var parameterValue = pair[1].trimmingCharacters(in: " \t\r\n")
            if parameterValue.hasPrefix("\""), let end = parameterValue.dropFirst().firstIndex(of: "\"") {
                parameterValue = String(parameterValue[parameterValue.index(after: parameterValue.startIndex)..<end])
            }
            return parameterValue
        }
        return nil
    }

    /// This part and every part below it, depth first.
    public var allParts: [MailMessage] {
        [self] + parts.flatMap(\.allParts)
    }

    // MARK: reading

    static func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8]) {
        var index = 0
        var lineStart = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                let line = bytes[lineStart..<index]
                if line.isEmpty || (line.count == 1 && line.first == 0x0D) {
                    return (Array(bytes[..<lineStart]), Array(bytes[(index + 1)...]))
                }
                lineStart = index + 1
            }
            index += 1
        }
        return (bytes, [])
    }

    static func parseHeaders(_ bytes: [UInt8]) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        let text = String(decoding: bytes, as: UTF8.self)
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("From ") && result.isEmpty { continue }   // an mbox separator
            if let first = line.first, first == " " || first == "\t" {
                if !result.isEmpty { result[result.count - 1].value += " " + line.trimmingCharacters(in: " \t") }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: " \t")
            guard !name.isEmpty, !name.contains(" ") else { continue }
            result.append((name, line[line.index(after: colon)...].trimmingCharacters(in: " \t")))
        }
        return result
    }

    static func splitMultipart(_ bytes: [UInt8], boundary: String) -> [[UInt8]] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [[UInt8]] = []
        var current: [UInt8]?
        var lineStart = 0
        var index = 0
        func handle(_ line: ArraySlice<UInt8>, end: Int) -> Bool {
            var trimmed = line
            while let last = trimmed.last, last == 0x0D || last == 0x20 || last == 0x09 { trimmed = trimmed.dropLast() }
            // Some MTAs indent the delimiter; lenient readers accept it.
            while let first = trimmed.first, first == 0x20 || first == 0x09 { trimmed = trimmed.dropFirst() }
            if trimmed.starts(with: delimiter) {
                let rest = trimmed.dropFirst(delimiter.count)
                if let part = current {
                    // The line break before the delimiter belongs to the delimiter.
                    var body = part
                    if body.last == 0x0A { body.removeLast() }
                    if body.last == 0x0D { body.removeLast() }
                    parts.append(body)
                }
                if rest.starts(with: [0x2D, 0x2D]) { current = nil; return false }
                current = []
                return true
            }
            current?.append(contentsOf: line)
            if end < bytes.count { current?.append(0x0A) }
            return true
        }
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0A {
                if !handle(bytes[lineStart..<index], end: index) { return parts }
                lineStart = index + 1
            }
            index += 1
        }
        if let part = current, !part.isEmpty { parts.append(part) }   // truncated: keep what came
        return parts
    }

    static func decode(_ bytes: [UInt8], encoding: String) -> [UInt8] {
        switch encoding {
        case "base64": return Base64Decoder.decode(bytes)
        case "quoted-printable": return QuotedPrintableDecoder.decode(bytes)
        default: return bytes
        }
    }
}

enum Base64Decoder {
    static func decode(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - 71
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte + 4
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            default: continue
            }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }
}

enum QuotedPrintableDecoder {
    static func decode(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - 48
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - 55
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - 87
            default: return nil
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "="), index + 1 < bytes.count {
                if bytes[index + 1] == 0x0A { index += 2; continue }
                if bytes[index + 1] == 0x0D, index + 2 < bytes.count, bytes[index + 2] == 0x0A { index += 3; continue }
                if index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let start = firstIndex { !set.contains($0) } ?? endIndex
        let end = lastIndex { !set.contains($0) }.map { index(after: $0) } ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
