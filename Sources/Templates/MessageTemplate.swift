/// A message template in its simplest form, one file as in an `.eml`: headers, a
/// blank line, the body, every part of it templated.
///
/// As in the popular Python mail-merge tool, `Attachment: PATH` (repeatable) attaches
/// a file and never appears in the sent message, and `Content-Type: text/html` or
/// `text/markdown` chooses the body's format.
public struct MessageTemplate: Sendable {
    public enum BodyFormat: String, Sendable {
        case text, html, markdown
    }

    public struct Header: Sendable {
        public var name: String
        public var value: Template
    }

    public let file: String
    public let headers: [Header]
    public let body: Template
    public let format: BodyFormat
    /// A template folder's `message.html`, beside the text body.
    public private(set) var html: Template?
    /// A template folder's `message.md`: HTML and a text alternative from one source.
    public private(set) var markdown: Template?
    /// Attachment paths, relative to the template's folder once rendered.
    public let attachments: [Template]

    public init(source: String, file: String) throws(TemplateError) {
        self.file = file
        let text = source.replacingLineEndings()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        var rawHeaders: [(name: String, value: String, line: Int)] = []
        var lineNumber = 0
        while let line = lines.first {
            lineNumber += 1
            lines = lines.dropFirst()
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t" {
                guard !rawHeaders.isEmpty else {
                    throw TemplateError("a header continuation line comes before any header", at: .init(file: file, line: lineNumber, column: 1))
                }
                rawHeaders[rawHeaders.count - 1].value += " " + line.drop(while: { $0 == " " || $0 == "\t" })
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  line[..<colon].allSatisfy({ $0.isASCII && $0 != " " && !$0.isWhitespace })
            else {
                throw TemplateError("expected a header such as 'Subject: …' (end the headers with one blank line before the body)",
                                    at: .init(file: file, line: lineNumber, column: 1))
            }
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            rawHeaders.append((String(line[..<colon]), String(value), lineNumber))
        }
        let bodyFirstLine = lineNumber + 1

        var headers: [Header] = []
        var attachments: [Template] = []
        var format = BodyFormat.text
        for raw in rawHeaders {
            let column = raw.name.count + 3
            let compiled = try Template(raw.value, file: file, firstLine: raw.line, firstColumn: column)
            switch raw.name.lowercased() {
            case "attachment":
                attachments.append(compiled)
            case "content-type":
                let type = raw.value.split(separator: ";").first.map { $0.trimmingCharacters(in: " \t").lowercased() } ?? ""
                switch type {
                case "text/plain": format = .text
                case "text/html": format = .html
                case "text/markdown": format = .markdown
                default:
                    throw TemplateError("Content-Type '\(type)' is not a body format; use text/plain, text/html or text/markdown",
                                        at: .init(file: file, line: raw.line, column: column))
                }
            case "mime-version", "content-transfer-encoding":
                break // written by the composer
            default:
                headers.append(Header(name: raw.name, value: compiled))
            }
        }
        guard headers.contains(where: { $0.name.lowercased() == "from" }) else {
            throw TemplateError("the template has no From header; add one such as 'From: News <news@example.com>'", at: .init(file: file, line: 1, column: 1))
        }
        self.headers = headers
        self.attachments = attachments
        self.format = format
        self.body = try Template(lines.joined(separator: "\n"), file: file, firstLine: bodyFirstLine)
    }

    /// The same message with the bodies of a template folder's other files.
    public func with(html: Template?, markdown: Template?) -> MessageTemplate {
        var copy = self
        copy.html = html
        copy.markdown = markdown
        return copy
    }

    /// Every template in the message, for checking fields.
    public var parts: [Template] { headers.map(\.value) + [body] + attachments + [html, markdown].compactMap { $0 } }

    public var fieldReferences: [FieldReference] { parts.flatMap(\.fieldReferences) }

    public func checkFields(against columns: [String], alsoKnown: [String] = []) throws(TemplateError) {
        if let first = unknownFields(against: columns, alsoKnown: alsoKnown).first { throw first }
    }

    /// Every unknown field of every part, in the order they appear.
    public func unknownFields(against columns: [String], alsoKnown: [String] = []) -> [TemplateError] {
        parts.flatMap { $0.unknownFields(against: columns, alsoKnown: alsoKnown) }
    }
}

extension StringProtocol {
    func replacingLineEndings() -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var previousWasCR = false
        for scalar in unicodeScalars {
            if scalar == "\r" {
                result.unicodeScalars.append("\n")
                previousWasCR = true
                continue
            }
            if scalar == "\n" && previousWasCR { previousWasCR = false; continue }
            previousWasCR = false
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    func trimmingCharacters(in set: String) -> String {
        let trimmedStart = drop(while: { set.contains($0) })
        var end = trimmedStart.endIndex
        while end > trimmedStart.startIndex, set.contains(trimmedStart[trimmedStart.index(before: end)]) {
            end = trimmedStart.index(before: end)
        }
        return String(trimmedStart[..<end])
    }
}
