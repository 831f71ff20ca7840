import Addresses

/// Header text as RFC 5322 and RFC 2047 want it: ASCII only, no line breaks,
/// folded at 78 characters, non-ASCII in encoded words of at most 75 characters
/// that never split a UTF-8 character.
enum HeaderEncoding {
    /// A value with every control character (CR and LF above all) turned into a
    /// space: a value can never add a header.
    static func sanitize(_ value: String) -> String {
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return value }
        var result = ""
        result.unicodeScalars.reserveCapacity(value.unicodeScalars.count)
        for scalar in value.unicodeScalars {
            result.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar)
        }
        return result
    }

    /// ASCII with nothing a reader could take for an encoded word (`=?`): goes as it is.
    /// Bytes, not Foundation's `contains`, which costs more than the rest of a header.
    static func isPlainASCII(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte >= 0x80 || (previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?")) { return false }
            previous = byte
        }
        return true
    }

    /// Unstructured text (Subject, X- headers): encoded words where needed.
    static func unstructured(_ value: String) -> String {
        let clean = sanitize(value)
        if isPlainASCII(clean) { return clean }
        return encodedWords(clean)
    }

    /// A mailbox: the display name quoted or encoded, the address in ASCII form.
    static func mailbox(_ mailbox: Mailbox) -> String {
        let address = "<\(sanitize(mailbox.address.smtpForm))>"
        guard let name = mailbox.displayName.map(sanitize), !name.isEmpty else { return sanitize(mailbox.address.smtpForm) }
        if isPlainASCII(name) {
            let isAtomText = name.utf8.allSatisfy { byte in
                byte == UInt8(ascii: " ") || byte == UInt8(ascii: "!") || (byte >= 0x23 && byte <= 0x27) || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/") || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "?")
                    || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x5E && byte <= 0x7E)
            }
            if isAtomText { return "\(name) \(address)" }
            let quoted = name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            return "\"\(quoted)\" \(address)"
        }
        return "\(encodedWords(name)) \(address)"
    }

    /// `=?UTF-8?B?…?=` words split between characters. RFC 2047 allows 75 characters a
    /// word; 60 keeps "List-Unsubscribe: " plus one word within 78 on the first line.
    static func encodedWords(_ value: String) -> String {
        let prefix = "=?UTF-8?B?", suffix = "?="
        let maxPayload = 60 - prefix.count - suffix.count // 48 base64 characters: 36 bytes
        let maxBytes = maxPayload / 4 * 3
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maxBytes, !chunk.isEmpty {
                words.append(prefix + Base64.encode(chunk) + suffix)
                chunk.removeAll(keepingCapacity: true)
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(prefix + Base64.encode(chunk) + suffix) }
        return words.joined(separator: " ")
    }

    /// `Name: value` folded at white space so no line passes 78 characters where it can be helped.
    static func fold(name: String, value: String, into output: inout [UInt8]) {
        // Most headers fit on one line as they are.
        if name.utf8.count + 2 + value.utf8.count <= 78 {
            output.append(contentsOf: name.utf8)
            output.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            output.append(contentsOf: value.utf8)
            output.append(contentsOf: [0x0D, 0x0A])
            return
        }
        var lineLength = name.utf8.count + 2
        output.append(contentsOf: name.utf8)
        output.append(contentsOf: ": ".utf8)
        var first = true
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            let length = word.utf8.count
            if !first {
                if lineLength + 1 + length > 78 && lineLength > 1 {
                    output.append(contentsOf: "\r\n ".utf8)
                    lineLength = 1
                } else {
                    output.append(UInt8(ascii: " "))
                    lineLength += 1
                }
            }
            output.append(contentsOf: word.utf8)
            lineLength += length
            first = false
        }
        output.append(contentsOf: "\r\n".utf8)
    }
}
