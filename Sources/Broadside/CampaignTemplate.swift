import Foundation
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

    /// Reads and compiles the template file at `path`.
    public static func load(path: String) throws -> CampaignTemplate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BroadsideError.input("\(path): cannot read the template (does the file exist?)")
        }
        guard let source = String(data: data, encoding: .utf8) else {
            throw BroadsideError.input("\(path): the template is not UTF-8 text; save it as UTF-8")
        }
        return try CampaignTemplate(source: source, path: path)
    }

    /// Compiles a template from its source (a campaign's snapshot).
    public init(source: String, path: String) throws {
        self.path = path
        self.directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
        self.source = source
        self.hash = Self.fingerprint(source)
        do {
            self.message = try MessageTemplate(source: source, file: path)
        } catch {
            throw BroadsideError.input("\(error)")
        }
        for header in message.headers where ["bcc", "cc"].contains(header.name.lowercased()) {
            throw BroadsideError.input("\(path): the template has a \(header.name) header; every message goes to its recipient alone, so Cc and Bcc are never sent")
        }
    }

    /// Checks every field the template reads against the list's columns.
    public func checkFields(against columns: [String]) throws {
        do {
            try message.checkFields(against: columns + MessageExtras.fields)
        } catch {
            throw BroadsideError.input("\(error)")
        }
    }

    /// FNV-1a, 64 bits, in hex: enough to tell two snapshots apart.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
