import Documents
import Engine
import Foundation
import Messages
import Templates

/// `Attachment: letter.docx as "Letter {{ last_name }}.docx"`: the document template is
/// filled for each recipient and attached under its own (templated) file name, in the
/// template's format. One line, in the single-file template as in `message.txt`.
enum DocumentAttachment {
    /// The template path and the attachment's file name of a rendered `Attachment:` value,
    /// when it is a document template (`PATH as "NAME"`, PATH a .docx or .odt).
    static func parse(_ rendered: String) -> (path: String, name: String)? {
        guard rendered.hasSuffix("\""), let separator = rendered.range(of: " as \"", options: .backwards) else { return nil }
        let path = rendered[..<separator.lowerBound].trimmingCharacters(in: .whitespaces)
        let name = String(rendered[separator.upperBound...].dropLast())
        guard DocumentTemplateFormats.isDocument(path) else { return nil }
        return (path, name)
    }

    /// The document template an `Attachment:` line names, when its path holds no field
    /// (so that `check` can read the document before any recipient is rendered).
    static func documentPath(of attachment: Template) -> String? {
        guard case .text(let text)? = attachment.nodes.first, let separator = text.range(of: " as \"") else { return nil }
        let path = text[..<separator.lowerBound].trimmingCharacters(in: .whitespaces)
        return DocumentTemplateFormats.isDocument(path) ? path : nil
    }
}

enum DocumentTemplateFormats {
    static func isDocument(_ path: String) -> Bool {
        ["docx", "odt"].contains((path as NSString).pathExtension.lowercased())
    }
}

/// Document templates read once per run, by file and content: a campaign's messages
/// share them.
final class DocumentTemplates: @unchecked Sendable {
    private let cache = Locked<[String: DocumentTemplate]>([:])

    func template(_ file: FileReference, data: [UInt8], name: String) throws(RenderProblem) -> DocumentTemplate {
        let key = "\(file.key)\u{0}\(data.count)\u{0}\(FNV1a.hash(data))"
        if let cached = cache.withLock({ $0[key] }) { return cached }
        do {
            let template = try DocumentTemplate(bytes: data, file: name)
            cache.withLock { $0[key] = template }
            return template
        } catch {
            throw RenderProblem(error.message)
        }
    }
}
