import Documents
import Addresses
import Delivery
import Engagement
import Foundation
import Ink
import Messages
import Signing
import Templates

/// Why one recipient's message cannot be made; the caller adds the row.
public struct RenderProblem: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// What every message of a campaign gets besides its template: unsubscribe links
/// (RFC 2369, RFC 8058) and a DKIM signature.
public struct MessageExtras: Sendable {
    /// `https://example.com/u/`: the token is appended; enables one-click unsubscribe.
    public var unsubscribeURL: String?
    /// `unsubscribe@example.com`: the token goes in the subject.
    public var unsubscribeMailto: String?
    public var tokens: UnsubscribeToken?
    public var dkim: DKIMSigner?
    /// A folder per-recipient attachments may come from besides the template's own.
    public var attachmentsRoot: String?
    /// Click and open tracking (`--track`), through `serve` at the public URL.
    public var tracking: Tracking?

    public init(unsubscribeURL: String? = nil, unsubscribeMailto: String? = nil, tokens: UnsubscribeToken? = nil, dkim: DKIMSigner? = nil,
                attachmentsRoot: String? = nil) {
        self.unsubscribeURL = unsubscribeURL
        self.unsubscribeMailto = unsubscribeMailto
        self.tokens = tokens
        self.dkim = dkim
        self.attachmentsRoot = attachmentsRoot
    }

    /// Fields the template may use besides the list's columns.
    public static let fields = ["unsubscribe_url"]

    /// What `--track` turns on, and where `serve` answers (`PUBLIC_URL/c/…`, `/o/…`).
    public struct Tracking: Sendable {
        public var publicURL: String
        public var tokens: TrackingToken
        public var clicks: Bool
        public var opens: Bool
        /// The text part's links too (`--track clicks,text`).
        public var textLinks: Bool

        public init(publicURL: String, tokens: TrackingToken, clicks: Bool, opens: Bool, textLinks: Bool = false) {
            self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
            self.tokens = tokens
            self.clicks = clicks
            self.opens = opens
            self.textLinks = textLinks
        }

        /// The text part as sent, its links through `/c/` (numbered from `TextLinks.firstNumber`).
        func applied(toText text: String, campaign: Int64, message: Int64, unsubscribe: String?) -> String {
            guard textLinks else { return text }
            return TextLinks.rewrite(text, track: { $0 != unsubscribe && !$0.hasPrefix(publicURL + "/u/") }) {
                "\(publicURL)/c/\(tokens.click(campaign: campaign, message: message, link: $0))"
            }
        }

        /// The HTML as sent: links through `/c/`, the open image at the end. A `mailto:`
        /// link, an opted-out one (`data-notrack`) and the unsubscribe link stay as they are.
        func applied(to html: String, campaign: Int64, message: Int64, unsubscribe: String?) -> String {
            var html = html
            if clicks {
                html = TrackedLinks.rewrite(html, track: { link in
                    !link.optedOut && link.url != unsubscribe && !link.url.hasPrefix(publicURL + "/u/")
                }) { "\(publicURL)/c/\(tokens.click(campaign: campaign, message: message, link: $0))" }
            }
            if opens {
                html = TrackedLinks.withOpenImage(html, address: "\(publicURL)/o/\(tokens.open(campaign: campaign, message: message)).gif")
            }
            return html
        }
    }

    /// A template that prints `{{ unsubscribe_url }}` with no unsubscribe URL set would send
    /// every recipient `href=""`: refused, with the place it is printed.
    public func checkLinks(in template: CampaignTemplate) throws {
        guard unsubscribeURL == nil || tokens == nil else { return }
        guard let use = template.message.fieldReferences.first(where: { FieldName.key($0.name) == "unsubscribe_url" && !$0.isOptional }) else {
            return
        }
        throw BroadsideError.input("\(use.location): the template prints {{ unsubscribe_url }} but no unsubscribe link is set; give --unsubscribe-url https://…/u/ (with BROADSIDE_SECRET), or unsubscribe_url in the profile")
    }

    func unsubscribeURL(campaign: Int64, message: Int64) -> String? {
        guard let base = unsubscribeURL, let tokens else { return nil }
        return base + tokens.token(campaign: campaign, message: message)
    }

    func headers(campaign: Int64, message: Int64) -> [HeaderField] {
        guard let tokens else { return [] }
        var links: [String] = []
        if let url = unsubscribeURL(campaign: campaign, message: message) { links.append("<\(url)>") }
        if let mailto = unsubscribeMailto { links.append("<mailto:\(mailto)?subject=unsubscribe%20\(tokens.token(campaign: campaign, message: message))>") }
        guard !links.isEmpty else { return [] }
        var headers = [HeaderField("List-Unsubscribe", links.joined(separator: ", "))]
        if unsubscribeURL != nil { headers.append(HeaderField("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")) }
        return headers
    }
}

/// How a document attached as PDF (`letter.docx as "Letter.pdf"`) is had.
public enum PDFAttachments: Sendable {
    /// `check` and a campaign's creation: the document is filled (its fields checked) and
    /// nothing is attached.
    case fillOnly
    /// `send`, `preview`: the PDFs made beforehand, one per message and attachment.
    case prepared(PreparedPDFs)
}

/// Renders a campaign's template for one recipient into a message ready to leave.
public struct PersonalMessage: Sendable {
    public let template: CampaignTemplate
    public let extras: MessageExtras
    /// Attachments and inline images: the disk, or a campaign's frozen snapshot.
    public let files: any MessageFiles
    /// The From mailbox when it reads no field: parsed once, not once a message.
    private let constantFrom: Mailbox?
    /// Document templates attached per recipient, prepared once.
    private let documents = DocumentTemplates()

    public let pdfs: PDFAttachments

    public init(template: CampaignTemplate, extras: MessageExtras = MessageExtras(), files: any MessageFiles = DiskFiles(),
                pdfs: PDFAttachments = .fillOnly) {
        self.template = template
        self.extras = extras
        self.files = files
        self.pdfs = pdfs
        let from = template.message.headers.first { $0.name.lowercased() == "from" }
        if let from, from.value.fieldReferences.isEmpty, let text = try? from.value.render(MergeRecord([:])) {
            constantFrom = try? Mailbox(parsing: text)
        } else {
            constantFrom = nil
        }
    }

    /// The sender of the first message, for the Message-ID domain and the return path.
    public func sender(for fields: [String: String]) throws(RenderProblem) -> Mailbox {
        let record = MergeRecord(fields)
        guard let from = template.message.headers.first(where: { $0.name.lowercased() == "from" }) else {
            throw RenderProblem("the template has no From header")
        }
        return try mailbox(from.value, record: record, header: "From")
    }

    /// What the recipient will see. `campaign` and `message` make the unsubscribe token.
    public func content(fields: [String: String], recipient: String, messageID: String, date: Int64,
                        campaign: Int64 = 0, message: Int64 = 0) throws(RenderProblem) -> MessageContent {
        var record = MergeRecord(fields)
        record["unsubscribe_url"] = extras.unsubscribeURL(campaign: campaign, message: message) ?? record["unsubscribe_url"] ?? ""
        var from: Mailbox?
        var to: Mailbox?
        var subject = ""
        var headers: [HeaderField] = []
        var copies: [Mailbox] = []
        let recipientAddress: EmailAddress
        do {
            recipientAddress = try EmailAddress(parsing: recipient)
        } catch {
            throw RenderProblem("the recipient \(error)")
        }
        for header in template.message.headers {
            switch header.name.lowercased() {
            case "from":
                if let constantFrom {
                    from = constantFrom
                } else {
                    from = try mailbox(header.value, record: record, header: "From")
                }
            case "to":
                // `To: {{ name }} <{{ email }}>` gives the display name; the address is always the recipient's.
                let addressed = try mailbox(header.value, record: record, header: "To")
                guard addressed.address.normalized == recipientAddress.normalized else {
                    throw RenderProblem("the To header renders to \(addressed.address), not the recipient \(recipient); every message goes to its recipient alone")
                }
                to = Mailbox(displayName: addressed.displayName, address: recipientAddress)
            case "subject":
                subject = try render(header.value, record: record, header: "Subject")
            case "cc":
                // A Cc of the recipient's own (their manager, their assistant): empty means none.
                let text = try render(header.value, record: record, header: "Cc")
                for piece in Self.addressList(text) {
                    do {
                        copies.append(try Mailbox(parsing: String(piece)))
                    } catch {
                        throw RenderProblem("the Cc header renders to '\(text)': \(error)")
                    }
                }
            default:
                headers.append(HeaderField(header.name, try render(header.value, record: record, header: header.name)))
            }
        }
        guard let from else { throw RenderProblem("the template has no From header") }
        headers += extras.headers(campaign: campaign, message: message)

        var (text, html) = try bodies(record)
        if let tracking = extras.tracking {
            if let shown = html {
                html = tracking.applied(to: shown, campaign: campaign, message: message, unsubscribe: record["unsubscribe_url"])
            }
            if let written = text {
                text = tracking.applied(toText: written, campaign: campaign, message: message, unsubscribe: record["unsubscribe_url"])
            }
        }
        var images: [InlineImage] = []
        if let shown = html { (html, images) = try inlineImages(in: shown) }
        var content = MessageContent(from: from, to: to ?? Mailbox(address: recipientAddress), subject: subject, headers: headers,
                                     text: text, html: html, attachments: try attachments(record: record, message: message), messageID: messageID, date: date)
        content.inlineImages = images
        content.cc = copies
        return content
    }

    /// The HTML body a recipient's message has, before tracking: what `serve` reads a
    /// tracked link's destination from (nil when the message has no HTML).
    public func untrackedHTML(fields: [String: String], campaign: Int64, message: Int64) throws(RenderProblem) -> String? {
        try untrackedBodies(fields: fields, campaign: campaign, message: message).html
    }

    /// Both bodies a recipient's message has, before tracking.
    public func untrackedBodies(fields: [String: String], campaign: Int64, message: Int64) throws(RenderProblem) -> (text: String?, html: String?) {
        var record = MergeRecord(fields)
        record["unsubscribe_url"] = extras.unsubscribeURL(campaign: campaign, message: message) ?? record["unsubscribe_url"] ?? ""
        return try bodies(record)
    }

    /// The text and HTML bodies: from the single file's body and Content-Type, or from a
    /// template folder's message.txt beside message.html or message.md.
    private func bodies(_ record: MergeRecord) throws(RenderProblem) -> (text: String?, html: String?) {
        let message = template.message
        do {
            if message.html != nil || message.markdown != nil {
                let text = try message.body.render(record)
                var html: String?
                if let markdown = message.markdown {
                    // Values were HTML-escaped as they went in, so the Markdown is safe to turn into HTML.
                    html = MarkdownParser().html(from: try markdown.render(record, escaping: .html))
                }
                if let page = message.html { html = try page.render(record, escaping: .html) }
                let hasText = !text.allSatisfy(\.isWhitespace)
                return (hasText ? text : PlainText.from(html: html ?? ""), html)
            }
            let body = try message.body.render(record, escaping: message.format == .text ? .none : .html)
            switch message.format {
            case .text: return (body, nil)
            case .html: return (PlainText.from(html: body), body)
            case .markdown:
                let html = MarkdownParser().html(from: body)
                return (PlainText.from(html: html), html)
            }
        } catch {
            throw RenderProblem("\(error)")
        }
    }

    /// `<img src="images/logo.png">` (a path inside the template's folder) becomes `cid:`
    /// and travels with the message; http(s), data and cid sources are left alone.
    private func inlineImages(in html: String) throws(RenderProblem) -> (String, [InlineImage]) {
        // Most HTML bodies show no local image: say so after one pass over the bytes.
        guard ByteSearch.contains(html, "src=\"") else { return (html, []) }
        var output = ""
        var images: [String: InlineImage] = [:]
        var rest = Substring(html)
        while let range = rest.firstRange(of: "src=\"") {
            output += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let source = String(rest.prefix { $0 != "\"" })
            let lower = source.lowercased()
            if lower.hasPrefix("http:") || lower.hasPrefix("https:") || lower.hasPrefix("cid:") || lower.hasPrefix("data:") || lower.hasPrefix("mailto:") || source.isEmpty {
                continue
            }
            let file = try AttachmentPath.resolve(source, inside: template.directory, as: .template)
            if images[file.key] == nil {
                guard let data = files.contents(of: file) else {
                    throw RenderProblem("the image '\(source)' the HTML shows does not exist in \(template.directory)")
                }
                let name = (file.path as NSString).lastPathComponent
                images[file.key] = InlineImage(contentID: "\(images.count + 1).\(name)@broadside", filename: name,
                                               contentType: AttachmentPath.contentType(of: file.path), data: data)
            }
            output += "cid:" + (images[file.key]?.contentID ?? "")
            rest = rest.dropFirst(source.count)
        }
        output += rest
        return (output, images.values.sorted { $0.contentID < $1.contentID })
    }

    /// The message as bytes (DKIM-signed when a key is configured) with its envelope. A
    /// Cc whose address `isSuppressed` is left out of the header and the envelope, and the
    /// message's note says so.
    public func outgoing(id: Int64, campaign: Int64, fields: [String: String], recipient: String, messageID: String, returnPath: String,
                         date: Int64, isSuppressed: (EmailAddress) -> Bool = { _ in false }) throws(RenderProblem) -> OutgoingMessage {
        var content = try content(fields: fields, recipient: recipient, messageID: messageID, date: date, campaign: campaign, message: id)
        var note: String?
        if !content.cc.isEmpty {
            let leftOut = content.cc.filter { isSuppressed($0.address) }
            if !leftOut.isEmpty {
                content.cc.removeAll { isSuppressed($0.address) }
                note = "Cc left out (suppressed): " + leftOut.map(\.address.smtpForm).joined(separator: ", ")
            }
        }
        var data = MessageComposer.compose(content)
        try Self.checkLineLengths(data)
        if let dkim = extras.dkim {
            do {
                data = try dkim.signatureHeader(for: data, time: date) + data
            } catch {
                throw RenderProblem("DKIM signing failed: \(error)")
            }
        }
        let copies = content.cc.map(\.address.smtpForm)
        return OutgoingMessage(id: id, messageID: messageID, envelope: Envelope(returnPath: returnPath, recipient: recipient, copies: copies),
                               data: data, note: note)
    }

    /// Whether any attachment may be a document made into a PDF (then `send` makes PDFs first).
    /// (A `PATH as "NAME"` line whose name does not end in .docx or .odt in the template may
    /// come out as a .pdf; `documentsForPDF` tells for each message.)
    public var attachesPDFs: Bool {
        template.message.attachments.contains { attachment in
            let texts = attachment.nodes.compactMap { node -> String? in
                if case .text(let text) = node { return text }
                return nil
            }
            guard texts.contains(where: { $0.contains(" as \"") }) else { return false }
            let tail = (texts.last ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            return !(tail.hasSuffix(".docx\"") || tail.hasSuffix(".odt\""))
        }
    }

    /// The filled documents this recipient's message attaches as PDF, each with its
    /// attachment's index: what to convert before the message can be made.
    public func documentsForPDF(fields: [String: String]) throws(RenderProblem) -> [(attachment: Int, docx: [UInt8])] {
        let record = MergeRecord(fields)
        var documents: [(attachment: Int, docx: [UInt8])] = []
        for (index, part) in template.message.attachments.enumerated() {
            let rendered = try render(part, record: record, header: "Attachment").trimmingCharacters(in: .whitespaces)
            guard let document = DocumentAttachment.parse(rendered), (document.name as NSString).pathExtension.lowercased() == "pdf" else { continue }
            let file = try AttachmentPath.resolve(document.path, inside: template.directory, as: .template)
            guard let data = files.contents(of: file) else { throw RenderProblem("the attachment '\(document.path)' does not exist in \(template.directory)") }
            do {
                documents.append((index, try self.documents.template(file, data: data, name: document.path).render(record)))
            } catch let error as DocumentError {
                throw RenderProblem(error.message)
            } catch {
                throw RenderProblem("\(error)")
            }
        }
        return documents
    }

    /// RFC 5322 §2.1.1: a line is at most 998 characters, and servers refuse longer ones
    /// (`500 Line too long`). The composer folds headers at spaces and encodes bodies in
    /// short lines; a header value with no space to fold at can still be too long.
    public static let maximumLineLength = 998

    public static func checkLineLengths(_ data: [UInt8]) throws(RenderProblem) {
        var start = 0
        for index in data.indices where data[index] == 0x0A {
            let end = index > start && data[index - 1] == 0x0D ? index - 1 : index
            if end - start > maximumLineLength {
                let line = data[start..<end]
                let header = line.firstIndex(of: UInt8(ascii: ":")).map { String(decoding: line[start..<$0], as: UTF8.self) }
                let place = header.map { "the \($0) header" } ?? "a line of the message"
                throw RenderProblem("\(place) renders to a line of \(end - start) characters with no space to fold at; SMTP allows \(maximumLineLength) (shorten the value)")
            }
            start = index + 1
        }
    }

    /// An address list split at the commas between addresses, not those inside a display
    /// name (`Lovelace, Ada <ada@example.com>`, quoted or, as spreadsheets have it, not).
    static func addressList(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var inQuotes = false, inAngle = false
        for character in text {
            switch character {
            case "\"": inQuotes.toggle()
            case "<" where !inQuotes: inAngle = true
            case ">" where !inQuotes: inAngle = false
            case "," where !inQuotes && !inAngle && current.contains("@"):
                pieces.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        pieces.append(current)
        return pieces.filter { !$0.allSatisfy(\.isWhitespace) }
    }

    private func render(_ part: Template, record: MergeRecord, header: String) throws(RenderProblem) -> String {
        do {
            return try part.render(record)
        } catch {
            throw RenderProblem("\(error)")
        }
    }

    private func mailbox(_ part: Template, record: MergeRecord, header: String) throws(RenderProblem) -> Mailbox {
        let text = try render(part, record: record, header: header)
        do {
            return try Mailbox(parsing: text)
        } catch {
            throw RenderProblem("the \(header) header renders to '\(text)', which is not an address: \(error)")
        }
    }

    /// Reads each `Attachment:` file, which must stay inside the template's folder; a
    /// document template (`letter.docx as "Letter {{ last_name }}.docx"`) is filled for the
    /// recipient from the same (frozen) file, so a retry attaches the same content.
    private func attachments(record: MergeRecord, message: Int64) throws(RenderProblem) -> [Messages.Attachment] {
        var result: [Messages.Attachment] = []
        for (index, part) in template.message.attachments.enumerated() {
            let rendered = try render(part, record: record, header: "Attachment").trimmingCharacters(in: .whitespaces)
            if rendered.isEmpty { continue }
            var documentName: String?
            var name = rendered
            if let document = DocumentAttachment.parse(rendered) {
                name = document.path
                documentName = document.name
            }
            // The template's folder first, then the configured attachments root.
            var file = try AttachmentPath.resolve(name, inside: template.directory, as: .template)
            var data = files.contents(of: file)
            if data == nil, let root = extras.attachmentsRoot {
                file = try AttachmentPath.resolve(name, inside: root, as: .attachments)
                data = files.contents(of: file)
            }
            guard let data else {
                let places = [template.directory, extras.attachmentsRoot].compactMap { $0 }.joined(separator: " or ")
                throw RenderProblem("the attachment '\(name)' does not exist in \(places)")
            }
            if let documentName {
                let document = try documents.template(file, data: data, name: name)
                let wanted = (documentName as NSString).pathExtension.lowercased()
                guard wanted.isEmpty || wanted == document.fileExtension || wanted == "pdf" else {
                    throw RenderProblem("the attachment '\(documentName)' asks for .\(wanted) from \(name): a document is attached as .\(document.fileExtension) or .pdf")
                }
                guard wanted == "pdf" else {
                    let filled: [UInt8]
                    do { filled = try document.render(record) } catch { throw RenderProblem(error.message) }
                    let filename = DocumentFileName.safe(documentName, extension: document.fileExtension)
                    result.append(Messages.Attachment(filename: filename, contentType: AttachmentPath.contentType(of: filename), data: filled,
                                                      isMergedDocument: true))
                    continue
                }
                switch pdfs {
                case .fillOnly:
                    do { _ = try document.render(record) } catch { throw RenderProblem(error.message) }
                    continue
                case .prepared(let prepared):
                    // Never sent without its PDF: a message whose PDF is missing is not made.
                    guard let pdf = prepared.pdf(message: message, attachment: index) else {
                        throw RenderProblem("the PDF of \(name) for this recipient has not been made")
                    }
                    result.append(Messages.Attachment(filename: DocumentFileName.safe(documentName, extension: "pdf"), contentType: "application/pdf", data: pdf,
                                                      isMergedDocument: true))
                }
                continue
            }
            result.append(Messages.Attachment(filename: (file.path as NSString).lastPathComponent, contentType: AttachmentPath.contentType(of: file.path),
                                              data: data))
        }
        return result
    }
}

/// Where an attachment named by a template or a CSV value may come from.
enum AttachmentPath {
    /// The folder a file was found in, which names its key in a campaign's snapshot.
    enum Folder: String {
        /// The template's own folder.
        case template
        /// The configured attachments root.
        case attachments
    }

    /// `name` resolved inside `root`; an absolute path or one that climbs out with `..`
    /// (or through a symbolic link) is refused.
    static func resolve(_ name: String, inside root: String, as folder: Folder) throws(RenderProblem) -> FileReference {
        guard !name.hasPrefix("/"), !name.hasPrefix("~") else {
            throw RenderProblem("the attachment path '\(name)' is absolute; name a file inside the template's folder")
        }
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath()
        let candidate = rootURL.appendingPathComponent(name).standardizedFileURL.resolvingSymlinksInPath()
        let prefix = rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/"
        guard candidate.path.hasPrefix(prefix) else {
            throw RenderProblem("the attachment path '\(name)' leads outside the template's folder \(root)")
        }
        return FileReference(key: folder.rawValue + "/" + candidate.path.dropFirst(prefix.count), path: candidate.path)
    }

    static func contentType(of path: String) -> String {
        let types = ["pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
                     "txt": "text/plain", "csv": "text/csv", "html": "text/html", "zip": "application/zip",
                     "ics": "text/calendar", "svg": "image/svg+xml", "webp": "image/webp",
                     "doc": "application/msword", "xls": "application/vnd.ms-excel",
                     "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"]
        return types[(path as NSString).pathExtension.lowercased()] ?? "application/octet-stream"
    }
}
