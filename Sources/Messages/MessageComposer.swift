import Addresses
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a message as RFC 5322 / MIME bytes with CRLF line endings, choosing the
/// smallest structure that fits: one part for text alone, `multipart/alternative`
/// for text and HTML, `multipart/related` around the HTML and its inline images,
/// `multipart/mixed` around all that for attachments.
public enum MessageComposer {
    public static func compose(_ content: MessageContent) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((content.text?.utf8.count ?? 0) + (content.html?.utf8.count ?? 0) + 1024)
        HeaderEncoding.fold(name: "Date", value: MessageDate.format(secondsSince1970: content.date), into: &output)
        HeaderEncoding.fold(name: "From", value: HeaderEncoding.mailbox(content.from), into: &output)
        HeaderEncoding.fold(name: "To", value: HeaderEncoding.mailbox(content.to), into: &output)
        if !content.cc.isEmpty {
            HeaderEncoding.fold(name: "Cc", value: content.cc.map(HeaderEncoding.mailbox).joined(separator: ", "), into: &output)
        }
        HeaderEncoding.fold(name: "Subject", value: HeaderEncoding.unstructured(content.subject), into: &output)
        HeaderEncoding.fold(name: "Message-ID", value: "<\(HeaderEncoding.sanitize(content.messageID))>", into: &output)
        for header in content.headers {
            HeaderEncoding.fold(name: HeaderEncoding.sanitize(header.name), value: encodedValue(header), into: &output)
        }
        HeaderEncoding.fold(name: "MIME-Version", value: "1.0", into: &output)

        // "=_" can appear neither in base64 nor in quoted-printable text.
        let boundaryBase = "=_bs_" + String(fnv1a(content.messageID), radix: 36)
        var body = bodyPart(text: content.text, html: content.html, images: content.inlineImages, boundary: boundaryBase)
        if !content.attachments.isEmpty {
            var parts = [body]
            for attachment in content.attachments { parts.append(attachmentPart(attachment)) }
            body = .multipart(subtype: "mixed", boundary: boundaryBase + "_mix", parts: parts)
        }
        write(body, into: &output)
        return output
    }

    /// Address headers keep their address readable; everything else is unstructured text.
    private static func encodedValue(_ header: HeaderField) -> String {
        switch header.name.lowercased() {
        case "reply-to", "sender":
            if let mailbox = try? Mailbox(parsing: header.value) { return HeaderEncoding.mailbox(mailbox) }
            return HeaderEncoding.unstructured(header.value)
        case "list-unsubscribe", "list-unsubscribe-post":
            return HeaderEncoding.sanitize(header.value)
        default:
            return HeaderEncoding.unstructured(header.value)
        }
    }

    private static func fnv1a(_ text: String) -> UInt64 { FNV1a.hash(text.utf8) }

    indirect enum Part {
        case leaf(headers: [HeaderField], body: [UInt8])
        case multipart(subtype: String, boundary: String, parts: [Part])
    }

    private static func bodyPart(text: String?, html: String?, images: [InlineImage], boundary: String) -> Part {
        guard let html else { return textPart(text ?? "", subtype: "plain", boundary: boundary) }
        // The HTML with the images it shows; the text alternative stands beside that whole.
        var htmlPart = textPart(html, subtype: "html", boundary: boundary)
        if !images.isEmpty {
            htmlPart = .multipart(subtype: "related", boundary: boundary + "_rel", parts: [htmlPart] + images.map(inlinePart))
        }
        guard let text else { return htmlPart }
        return .multipart(subtype: "alternative", boundary: boundary + "_alt", parts: [textPart(text, subtype: "plain", boundary: boundary), htmlPart])
    }

    private static func inlinePart(_ image: InlineImage) -> Part {
        let name = ParameterEncoding.filenameParameters(image.filename)
        var body: [UInt8] = []
        Base64.encode(image.data, lineLength: 76, into: &body)
        return .leaf(headers: [
            HeaderField("Content-Type", "\(image.contentType); \(name.nameParameter)"),
            HeaderField("Content-ID", "<\(HeaderEncoding.sanitize(image.contentID))>"),
            HeaderField("Content-Disposition", "inline; \(name.filenameParameter)"),
            HeaderField("Content-Transfer-Encoding", "base64"),
        ], body: body)
    }

    /// Text with CRLF line endings: 7bit when it is ASCII with lines within RFC 5322's 998,
    /// quoted-printable when it is mostly ASCII, base64 otherwise (CJK text grows least that way).
    private static func textPart(_ text: String, subtype: String, boundary: String) -> Part {
        let bytes = crlf(text)
        var nonASCII = 0
        var longestLine = 0
        bytes.withUnsafeBufferPointer { buffer in
            var lineLength = 0
            for byte in buffer {
                if byte >= 0x80 || (byte < 0x20 && byte != 0x0D && byte != 0x0A && byte != 0x09) { nonASCII += 1 }
                if byte == 0x0A {
                    if lineLength > longestLine { longestLine = lineLength }
                    lineLength = 0
                } else {
                    lineLength += 1
                }
            }
            if lineLength > longestLine { longestLine = lineLength }
        }
        var headers = [HeaderField("Content-Type", "text/\(subtype); charset=utf-8")]
        var body: [UInt8] = []
        if nonASCII == 0 && longestLine <= 998 && !bytes.starts(with: "--".utf8) && !contains(bytes, boundary) {
            headers.append(HeaderField("Content-Transfer-Encoding", "7bit"))
            body = bytes
            if body.last != 0x0A { body += [0x0D, 0x0A] }
        } else if nonASCII * 6 < bytes.count {
            headers.append(HeaderField("Content-Transfer-Encoding", "quoted-printable"))
            QuotedPrintable.encode(bytes, into: &body)
            if body.last != 0x0A { body += [0x0D, 0x0A] }
        } else {
            headers.append(HeaderField("Content-Transfer-Encoding", "base64"))
            Base64.encode(bytes, lineLength: 76, into: &body)
        }
        return .leaf(headers: headers, body: body)
    }

    private static func attachmentPart(_ attachment: Attachment) -> Part {
        let name = ParameterEncoding.filenameParameters(attachment.filename)
        var body: [UInt8] = []
        Base64.encode(attachment.data, lineLength: 76, into: &body)
        return .leaf(headers: [
            HeaderField("Content-Type", "\(attachment.contentType); \(name.nameParameter)"),
            HeaderField("Content-Disposition", "attachment; \(name.filenameParameter)"),
            HeaderField("Content-Transfer-Encoding", "base64"),
        ], body: body)
    }

    private static func write(_ part: Part, into output: inout [UInt8]) {
        switch part {
        case .leaf(let headers, let body):
            for header in headers { HeaderEncoding.fold(name: header.name, value: header.value, into: &output) }
            output += [0x0D, 0x0A]
            output += body
        case .multipart(let subtype, let boundary, let parts):
            HeaderEncoding.fold(name: "Content-Type", value: "multipart/\(subtype); boundary=\"\(boundary)\"", into: &output)
            output += [0x0D, 0x0A]
            // The CRLF before each boundary belongs to the delimiter (RFC 2046), not to the
            // part: without it a part would lose its last line break.
            for (index, child) in parts.enumerated() {
                output += Array("\(index == 0 ? "" : "\r\n")--\(boundary)\r\n".utf8)
                write(child, into: &output)
            }
            output += Array("\r\n--\(boundary)--\r\n".utf8)
        }
    }

    /// `text` with every line break as CRLF.
    static func crlf(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { source in
            let count = source.count
            // Without a CR, every LF just gains one: copy the runs between them whole.
            if let base = source.baseAddress, memchr(base, 0x0D, count) == nil {
                return [UInt8](unsafeUninitializedCapacity: count * 2) { buffer, written in
                    guard let out = buffer.baseAddress else { written = 0; return }
                    var from = 0, to = 0
                    while from < count {
                        guard let hit = memchr(base + from, 0x0A, count - from) else {
                            memcpy(out + to, base + from, count - from)
                            to += count - from
                            break
                        }
                        let run = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) - from
                        memcpy(out + to, base + from, run)
                        to += run
                        out[to] = 0x0D; out[to + 1] = 0x0A
                        to += 2
                        from += run + 1
                    }
                    written = to
                }
            }
            // At most one added byte per byte: write into a buffer of that size, then cut it.
            return [UInt8](unsafeUninitializedCapacity: count * 2 + 2) { buffer, written in
                var out = 0
                var previous: UInt8 = 0
                for index in 0..<count {
                    let byte = source[index]
                    if byte == 0x0A && previous != 0x0D { buffer[out] = 0x0D; out += 1 }
                    if previous == 0x0D && byte != 0x0A { buffer[out] = 0x0A; out += 1 }
                    buffer[out] = byte
                    out += 1
                    previous = byte
                }
                if previous == 0x0D { buffer[out] = 0x0A; out += 1 }
                written = out
            }
        }
    }

    private static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return false }
        return bytes.withUnsafeBytes { haystack in pattern.withUnsafeBytes { ByteSearch.contains(haystack, $0) } }
    }
}

/// RFC 2231 `filename*=` for non-ASCII attachment names, with the RFC 2047
/// `name=` that Outlook and QQ Mail still read.
enum ParameterEncoding {
    static func filenameParameters(_ filename: String) -> (nameParameter: String, filenameParameter: String) {
        let clean = HeaderEncoding.sanitize(filename)
        if clean.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            let quoted = "\"" + clean.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
            return ("name=\(quoted)", "filename=\(quoted)")
        }
        var percent = "UTF-8''"
        for byte in clean.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "!#$&+-.^_`|~".contains(c) {
                percent.append(c)
            } else {
                percent += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return ("name=\"\(HeaderEncoding.encodedWords(clean))\"", "filename*=\(percent)")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
