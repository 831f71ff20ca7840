import Addresses
import Delivery
import Foundation
import Ink
import Messages
import Templates

/// Why one recipient's message cannot be made; the caller adds the row.
public struct RenderProblem: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Renders a campaign's template for one recipient into a message ready to leave.
public struct PersonalMessage: Sendable {
    public let template: CampaignTemplate

    public init(template: CampaignTemplate) {
        self.template = template
    }

    /// The sender of the first message, for the Message-ID domain and the return path.
    public func sender(for fields: [String: String]) throws(RenderProblem) -> Mailbox {
        let record = MergeRecord(fields)
        guard let from = template.message.headers.first(where: { $0.name.lowercased() == "from" }) else {
            throw RenderProblem("the template has no From header")
        }
        return try mailbox(from.value, record: record, header: "From")
    }

    /// What the recipient will see.
    public func content(fields: [String: String], recipient: String, messageID: String, date: Int64) throws(RenderProblem) -> MessageContent {
        let record = MergeRecord(fields)
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

    /// The message as bytes with its envelope.
    public func outgoing(id: Int64, fields: [String: String], recipient: String, messageID: String, returnPath: String, date: Int64) throws(RenderProblem) -> OutgoingMessage {
        let content = try content(fields: fields, recipient: recipient, messageID: messageID, date: date)
        return OutgoingMessage(id: id, messageID: messageID, envelope: Envelope(returnPath: returnPath, recipient: recipient),
                               data: MessageComposer.compose(content))
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
