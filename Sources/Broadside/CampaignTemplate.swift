import Documents
import Foundation
import Messages
import Templates

/// A message template as a campaign keeps it: the source (its snapshot), where it
/// came from, and its compiled form.
public struct CampaignTemplate: Sendable {
    /// The path as given (relative to where the command ran).
    public let path: String
    /// Where attachment paths are resolved: the template's own folder.
    public let directory: String
    public let source: String
    /// A fingerprint of the source, shown in reports so that a changed template is noticed.
    public let hash: String
    public let message: MessageTemplate

    /// The files of a template folder: headers and text body, then the optional HTML and Markdown bodies.
    public static let folderFiles = ["message.txt", "message.html", "message.md"]

    /// Reads and compiles the template at `path`: one file, or a folder holding `message.txt`
    /// (headers and text body) and optionally `message.html` and `message.md`.
    public static func load(path: String) throws -> CampaignTemplate {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BroadsideError.input("\(path): no such template file or folder")
        }
        if !isDirectory.boolValue { return try CampaignTemplate(source: try read(path), path: path) }
        var files: [String: String] = [:]
        for name in folderFiles {
            let file = (path as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file) { files[name] = try read(file) }
        }
        guard files["message.txt"] != nil else {
            throw BroadsideError.input("\(path): a template folder needs message.txt (headers, a blank line, the text body)")
        }
        let snapshot = String(decoding: (try? JSONEncoder.sorted.encode(["files": files])) ?? Data(), as: UTF8.self)
        return try CampaignTemplate(source: snapshot, path: path)
    }

    private static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BroadsideError.input("\(path): cannot read the template (does the file exist?)")
        }
        guard let source = String(data: data, encoding: .utf8) else {
            throw BroadsideError.input("\(path): the template is not UTF-8 text; save it as UTF-8")
        }
        return source
    }

    /// Compiles a template from its source (a campaign's snapshot): a file's text, or a
    /// folder's files as JSON.
    public init(source: String, path: String) throws {
        self.path = path
        let folder = source.hasPrefix("{\"files\":")
        let root = folder ? URL(fileURLWithPath: path) : URL(fileURLWithPath: path).deletingLastPathComponent()
        self.directory = root.standardizedFileURL.path
        self.source = source
        self.hash = Self.fingerprint(source)
        var files: [String: String] = [:]
        if folder {
            files = (try? JSONDecoder().decode([String: [String: String]].self, from: Data(source.utf8)))?["files"] ?? [:]
        }
        do {
            if folder {
                let base = (path as NSString)
                var message = try MessageTemplate(source: files["message.txt"] ?? "", file: base.appendingPathComponent("message.txt"))
                let html = try files["message.html"].map { try Template($0, file: base.appendingPathComponent("message.html")) }
                let markdown = try files["message.md"].map { try Template($0, file: base.appendingPathComponent("message.md")) }
                message = message.with(html: html, markdown: markdown)
                self.message = message
            } else {
                self.message = try MessageTemplate(source: source, file: path)
            }
        } catch {
            throw BroadsideError.input("\(error)")
        }
        for header in message.headers where header.name.lowercased() == "bcc" {
            throw BroadsideError.input("\(path): the template has a Bcc header; every message goes to its recipient alone, and a Bcc is never sent")
        }
    }

    /// Checks every field the template reads against the list's columns: every unknown
    /// field in one error, a line each, with its place and the nearest column's name.
    /// Document templates attached per recipient are read too, every field placed by part and paragraph.
    public func checkFields(against columns: [String]) throws {
        var problems = message.unknownFields(against: columns, alsoKnown: MessageExtras.fields).map(\.description)
        for attachment in message.attachments {
            guard let path = DocumentAttachment.documentPath(of: attachment) else { continue }
            let file: FileReference
            do { file = try AttachmentPath.resolve(path, inside: directory, as: .template) } catch { problems.append(error.message); continue }
            do {
                problems += try DocumentTemplate(path: file.path, displayName: path).problems(against: columns, alsoKnown: MessageExtras.fields)
            } catch {
                problems.append(error.message)
            }
        }
        guard !problems.isEmpty else { return }
        throw BroadsideError.input(problems.joined(separator: "\n"))
    }

    /// FNV-1a, 64 bits, in hex: enough to tell two snapshots apart.
    /// (Folders are snapshotted as sorted JSON so that the same files give the same hash.)
    static func fingerprint(_ text: String) -> String {
        let hex = String(FNV1a.hash(text.utf8), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
