import Documents
import Foundation
import Store
import Templates

/// `broadside merge`: one document per list member, written to a folder (for printing or
/// archiving, as LibreOffice's "save as individual documents" does), as the template's own
/// format or as PDF. Every check runs before the first file is written.
public struct DocumentMerge {
    public let document: DocumentTemplate
    public let name: Template
    public let pdf: Bool

    public struct Summary: Sendable, Codable {
        public var documents = 0
        public var failed = 0
        public var folder: String
        public var files: [String] = []
        public var failures: [String: String] = [:]
    }

    /// `nameTemplate`: the file name of each document, templated (`{{ last_name }}.docx`).
    public init(document: DocumentTemplate, nameTemplate: String?, pdf: Bool) throws {
        self.document = document
        self.pdf = pdf
        let base = ((document.file as NSString).lastPathComponent as NSString).deletingPathExtension
        name = try Template(nameTemplate ?? "\(base)-{{ line }}", file: "--name")
    }

    /// Every problem at once: fields that are not columns, in the document and in the name.
    public func problems(columns: [String]) -> [String] {
        document.problems(against: columns, alsoKnown: ["line"])
            + name.unknownFields(against: columns, alsoKnown: ["line"]).map { "--name: \($0.message)" }
    }

    public func run(store: Store, list: String, folder: String, limit: Int?, progress: (Int) -> Void) throws -> Summary {
        var summary = Summary(folder: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // PDFs are made from the filled documents in a work folder, then moved into place.
        let work = pdf ? (folder as NSString).appendingPathComponent(".broadside-merge-\(getpid())") : folder
        if pdf { try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true) }
        defer { if pdf { try? FileManager.default.removeItem(atPath: work) } }
        var used: Set<String> = []
        var made: [(document: String, final: String)] = []
        try store.forEachMember(of: list, limit: limit) { member in
            var fields = member.fields
            fields["line"] = fields["line"] ?? String(member.line)
            let record = MergeRecord(fields)
            let base = Self.unique(DocumentFileName.safe(try name.render(record), extension: document.fileExtension), in: &used)
            let bytes = try document.render(record)
            let path = (work as NSString).appendingPathComponent(base)
            // Written in place (a temporary file and a rename cost a second inode each);
            // a document cut short by a crash is simply made again by the next merge.
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw BroadsideError.environment("cannot write \(path)")
            }
            let final = pdf ? (folder as NSString).appendingPathComponent((base as NSString).deletingPathExtension + ".pdf") : path
            made.append((path, final))
            summary.documents += 1
            progress(summary.documents)
        }
        if pdf {
            let failures = try PDFConverter().convert(made.map(\.document), into: work)
            for (document, final) in made {
                if let why = failures[document] {
                    summary.failed += 1
                    summary.failures[(final as NSString).lastPathComponent] = why
                    continue
                }
                try? FileManager.default.removeItem(atPath: final)
                try FileManager.default.moveItem(atPath: PDFConverter.pdf(for: document, in: work), toPath: final)
                summary.files.append(final)
            }
            summary.documents -= summary.failed
        } else {
            summary.files = made.map(\.final)
        }
        return summary
    }

    /// Two members whose names come out the same get "name (2).docx" and so on.
    static func unique(_ name: String, in used: inout Set<String>) -> String {
        var candidate = name
        var number = 2
        let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
        while !used.insert(candidate.lowercased()).inserted {
            candidate = "\(base) (\(number)).\(ext)"
            number += 1
        }
        return candidate
    }
}

/// A file name made from list values: one name in the folder, never a path (`/`, `..`),
/// no control characters, with the document's extension.
public enum DocumentFileName {
    public static func safe(_ rendered: String, extension wanted: String) -> String {
        var name = String(rendered.map { character -> Character in
            if character == "/" || character == "\\" || character == ":" || character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                return "-"
            }
            return character
        }).trimmingCharacters(in: .whitespaces)
        while name.hasPrefix(".") { name.removeFirst() }
        let ext = (name as NSString).pathExtension.lowercased()
        if ["docx", "odt", "pdf"].contains(ext) { name = (name as NSString).deletingPathExtension }
        if name.isEmpty { name = "document" }
        if name.utf8.count > 200 { name = String(name.prefix(150)) }
        return name + "." + wanted
    }
}
