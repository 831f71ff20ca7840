import Addresses
import Delivery
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

    public init(unsubscribeURL: String? = nil, unsubscribeMailto: String? = nil, tokens: UnsubscribeToken? = nil, dkim: DKIMSigner? = nil) {
        self.unsubscribeURL = unsubscribeURL
        self.unsubscribeMailto = unsubscribeMailto
        self.tokens = tokens
        self.dkim = dkim
    }

    /// Fields the template may use besides the list's columns.
    public static let fields = ["unsubscribe_url"]

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

/// Renders a campaign's template for one recipient into a message ready to leave.
public struct PersonalMessage: Sendable {
    public let template: CampaignTemplate
    public let extras: MessageExtras

    public init(template: CampaignTemplate, extras: MessageExtras = MessageExtras()) {
        self.template = template
        self.extras = extras
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
        let recipientAddress: EmailAddress
        do {
            recipientAddress = try EmailAddress(parsing: recipient)
        } catch {
            throw RenderProblem("the recipient \(error)")
        }
        for header in template.message.headers {
            switch header.name.lowercased() {
            case "from":
                from = try mailbox(header.value, record: record, header: "From")
            case "to":
                // `To: {{ name }} <{{ email }}>` gives the display name; the address is always the recipient's.
                let addressed = try mailbox(header.value, record: record, header: "To")
                guard addressed.address.normalized == recipientAddress.normalized else {
                    throw RenderProblem("the To header renders to \(addressed.address), not the recipient \(recipient); every message goes to its recipient alone")
                }
                to = Mailbox(displayName: addressed.displayName, address: recipientAddress)
            case "subject":
                subject = try render(header.value, record: record, header: "Subject")
            default:
                headers.append(HeaderField(header.name, try render(header.value, record: record, header: header.name)))
            }
        }
        guard let from else { throw RenderProblem("the template has no From header") }
        headers += extras.headers(campaign: campaign, message: message)

        let body: String
        do {
            body = try template.message.body.render(record, escaping: template.message.format == .text ? .none : .html)
        } catch {
            throw RenderProblem("\(error)")
        }
        var text: String?
        var html: String?
        switch template.message.format {
        case .text:
            text = body
        case .html:
            html = body
            text = PlainText.from(html: body)
        case .markdown:
            // Values were HTML-escaped as they went in, so the Markdown is safe to turn into HTML.
            html = MarkdownParser().html(from: body)
            text = PlainText.from(html: html ?? "")
        }
        return MessageContent(from: from, to: to ?? Mailbox(address: recipientAddress), subject: subject, headers: headers,
                              text: text, html: html, attachments: try attachments(record: record), messageID: messageID, date: date)
    }

    /// The message as bytes (DKIM-signed when a key is configured) with its envelope.
    public func outgoing(id: Int64, campaign: Int64, fields: [String: String], recipient: String, messageID: String, returnPath: String,
                         date: Int64) throws(RenderProblem) -> OutgoingMessage {
        let content = try content(fields: fields, recipient: recipient, messageID: messageID, date: date, campaign: campaign, message: id)
        var data = MessageComposer.compose(content)
        if let dkim = extras.dkim {
            do {
                data = try dkim.signatureHeader(for: data, time: date) + data
            } catch {
                throw RenderProblem("DKIM signing failed: \(error)")
            }
        }
        return OutgoingMessage(id: id, messageID: messageID, envelope: Envelope(returnPath: returnPath, recipient: recipient), data: data)
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

    /// Reads each `Attachment:` file, which must stay inside the template's folder.
    private func attachments(record: MergeRecord) throws(RenderProblem) -> [Messages.Attachment] {
        var result: [Messages.Attachment] = []
        for part in template.message.attachments {
            let name = try render(part, record: record, header: "Attachment").trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            let file = try AttachmentPath.resolve(name, inside: template.directory)
            guard let data = FileManager.default.contents(atPath: file) else {
                throw RenderProblem("the attachment '\(name)' does not exist in \(template.directory)")
            }
            result.append(Messages.Attachment(filename: (file as NSString).lastPathComponent, contentType: AttachmentPath.contentType(of: file), data: [UInt8](data)))
        }
        return result
    }
}

/// Where an attachment named by a template or a CSV value may come from.
enum AttachmentPath {
    /// `name` resolved inside `root`; an absolute path or one that climbs out with `..`
    /// (or through a symbolic link) is refused.
    static func resolve(_ name: String, inside root: String) throws(RenderProblem) -> String {
        guard !name.hasPrefix("/"), !name.hasPrefix("~") else {
            throw RenderProblem("the attachment path '\(name)' is absolute; name a file inside the template's folder")
        }
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath()
        let candidate = rootURL.appendingPathComponent(name).standardizedFileURL.resolvingSymlinksInPath()
        guard candidate.path.hasPrefix(rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/") else {
            throw RenderProblem("the attachment path '\(name)' leads outside the template's folder \(root)")
        }
        return candidate.path
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
