/// The links of an HTML body that click tracking follows: every `<a href="http…">` in
/// document order, numbered from 0. The number is all a tracked link carries; `serve`
/// finds the destination again by rendering the recipient's own message from the
/// campaign's frozen template and fields and taking the link with that number, so a
/// tracked link can never be made to point anywhere the message did not.
public enum TrackedLinks {
    public struct Link: Sendable, Equatable {
        /// Where the URL stands in the HTML (between the quotes).
        public var range: Range<String.Index>
        /// The destination as the browser would follow it (HTML entities decoded).
        public var url: String
        /// `<a … data-notrack>`: the author asked for this link to stay as it is.
        public var optedOut: Bool
    }

    /// Every http(s) link of an `<a>` tag, in order. Scanned as UTF-8 bytes: `serve` runs
    /// this for every message a click comes for.
    public static func links(in html: String) -> [Link] {
        var links: [Link] = []
        let bytes = html.utf8
        var index = bytes.startIndex
        while let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")) {
            var next = bytes.index(after: open)
            guard next < bytes.endIndex, bytes[next] | 0x20 == UInt8(ascii: "a") else {
                index = next
                continue
            }
            next = bytes.index(after: next)
            guard next < bytes.endIndex, [UInt8(ascii: " "), 0x09, 0x0A, 0x0D, UInt8(ascii: ">")].contains(bytes[next]) else {
                index = next
                continue
            }
            guard let close = tagEnd(in: html[next...]) else { break }
            let tag = html[next..<close]
            if let (range, value) = attribute("href", in: tag) {
                let url = decodeEntities(String(value)).trimmingCharacters(in: .whitespacesAndNewlines)
                if hasWebScheme(url) {
                    links.append(Link(range: range, url: url, optedOut: attribute("data-notrack", in: tag) != nil))
                }
            }
            index = close
        }
        return links
    }

    /// `http://` or `https://`, in any case.
    static func hasWebScheme(_ url: String) -> Bool {
        let head = url.utf8.prefix(8).map { $0 | 0x20 }
        return head.starts(with: Array("http://".utf8)) || head.starts(with: Array("https://".utf8))
    }

    /// The HTML with each link that `track` accepts replaced by what `address` gives for
    /// its number (a tracked address, attribute-safe).
    public static func rewrite(_ html: String, track: (Link) -> Bool, address: (Int) -> String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count + 256)
        var last = html.startIndex
        for (number, link) in links(in: html).enumerated() where track(link) {
            output += html[last..<link.range.lowerBound]
            output += address(number)
            last = link.range.upperBound
        }
        output += html[last...]
        return output
    }

    /// A 1×1 image at the end of the body (before `</body>` when there is one).
    public static func withOpenImage(_ html: String, address: String) -> String {
        let image = "<img src=\"\(address)\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">"
        if let body = html.range(of: "</body>", options: [.caseInsensitive, .backwards]) {
            return html[..<body.lowerBound] + image + html[body.lowerBound...]
        }
        return html + image
    }

    /// The `>` that ends a tag, outside quoted attribute values.
    static func tagEnd(in text: Substring) -> String.Index? {
        var quote: Character?
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == ">" {
                return index
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// An attribute's value range and text (quoted with " or ', or bare), or an empty value
    /// for a bare attribute; nil when the tag has no such attribute.
    static func attribute(_ name: String, in tag: Substring) -> (Range<String.Index>, Substring)? {
        var index = tag.startIndex
        while index < tag.endIndex {
            while index < tag.endIndex, tag[index].isWhitespace || tag[index] == "/" { index = tag.index(after: index) }
            let nameStart = index
            while index < tag.endIndex, !tag[index].isWhitespace, tag[index] != "=", tag[index] != ">" { index = tag.index(after: index) }
            let attributeName = tag[nameStart..<index]
            if attributeName.isEmpty { break }
            while index < tag.endIndex, tag[index].isWhitespace { index = tag.index(after: index) }
            var value: (Range<String.Index>, Substring) = (index..<index, "")
            if index < tag.endIndex, tag[index] == "=" {
                index = tag.index(after: index)
                while index < tag.endIndex, tag[index].isWhitespace { index = tag.index(after: index) }
                if index < tag.endIndex, tag[index] == "\"" || tag[index] == "'" {
                    let quote = tag[index]
                    let start = tag.index(after: index)
                    let end = tag[start...].firstIndex(of: quote) ?? tag.endIndex
                    value = (start..<end, tag[start..<end])
                    index = end < tag.endIndex ? tag.index(after: end) : end
                } else {
                    let start = index
                    while index < tag.endIndex, !tag[index].isWhitespace { index = tag.index(after: index) }
                    value = (start..<index, tag[start..<index])
                }
            }
            if attributeName.lowercased() == name { return value }
        }
        return nil
    }

    /// The entities a rendered href holds (`&amp;` from escaped values, numeric ones).
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            guard let semi = rest[amp...].prefix(10).firstIndex(of: ";") else {
                output += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let name = rest[rest.index(after: amp)..<semi]
            let named = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "#39": "'"]
            if let value = named[String(name)] {
                output += value
            } else if name.hasPrefix("#x"), let code = UInt32(name.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
                output.unicodeScalars.append(scalar)
            } else if name.hasPrefix("#"), let code = UInt32(name.dropFirst()), let scalar = Unicode.Scalar(code) {
                output.unicodeScalars.append(scalar)
            } else {
                output += rest[amp...semi]
            }
            rest = rest[rest.index(after: semi)...]
        }
        return output + rest
    }
}

/// The links of a plain-text part (`--track clicks,text`): every `http://` or `https://`
/// address written out, numbered in order from `TextLinks.firstNumber` (so that a link's
/// number says which part it is in). A trailing full stop, comma or bracket of the
/// sentence around it is not part of the address.
public enum TextLinks {
    public static let firstNumber = 100_000

    public static func links(in text: String) -> [(range: Range<String.Index>, url: String)] {
        var links: [(Range<String.Index>, String)] = []
        let bytes = text.utf8
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes[index] | 0x20 == UInt8(ascii: "h"), TrackedLinks.hasWebScheme(String(text[index...].prefix(8))) else {
                index = bytes.index(after: index)
                continue
            }
            var end = index
            let stops: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'")]
            while end < bytes.endIndex, !stops.contains(bytes[end]) { end = bytes.index(after: end) }
            let trailing: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
                                        UInt8(ascii: "?"), UInt8(ascii: ")"), UInt8(ascii: "]")]
            while end > index, trailing.contains(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
            let url = String(text[index..<end])
            if url.utf8.count > 8 { links.append((index..<end, url)) }
            index = end > index ? end : bytes.index(after: index)
        }
        return links
    }

    /// The text with each link replaced by what `address` gives for its number.
    public static func rewrite(_ text: String, track: (String) -> Bool, address: (Int) -> String) -> String {
        var output = ""
        var last = text.startIndex
        for (offset, link) in links(in: text).enumerated() where track(link.url) {
            output += text[last..<link.range.lowerBound]
            output += address(firstNumber + offset)
            last = link.range.upperBound
        }
        return output + text[last...]
    }
}
