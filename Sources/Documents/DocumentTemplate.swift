import Foundation
import Templates

/// A Word (.docx) or OpenDocument (.odt) document used as a template: read and prepared
/// once (merge fields converted, split tags joined, control tags placed), then filled for
/// each recipient. Only the parts that hold fields are rewritten; every other entry of the
/// package is copied byte for byte.
public struct DocumentTemplate: Sendable {
    public let file: String
    let format: DocumentFormat
    private let package: ZipPackageBox
    /// The text parts that hold fields, compiled, with their prepared XML (for locating problems).
    private let parts: [(name: String, template: Template, prepared: String)]
    /// Parts rewritten once for every document (Word's data-source link taken out of settings.xml).
    private let fixed: [String: [UInt8]]
    /// Merge fields that could not be turned into the template language, as "part: instruction".
    public let unconvertedFields: [String]

    /// Reads `path`; `displayName` names it in messages (the path as the user wrote it).
    public init(path: String, displayName: String? = nil) throws(DocumentError) {
        let name = displayName ?? path
        guard let data = FileManager.default.contents(atPath: path) else { throw DocumentError("\(name): cannot read the document (does it exist?)") }
        try self.init(bytes: Array(data), file: name)
    }

    public init(bytes: [UInt8], file: String) throws(DocumentError) {
        guard let format = DocumentFormat(file: file) else {
            throw DocumentError("\(file): a document template must be a Word .docx or an OpenDocument .odt file")
        }
        self.file = file
        self.format = format
        let package = try ZipPackage(bytes: bytes, file: file)
        self.package = ZipPackageBox(package: package)
        var parts: [(String, Template, String)] = []
        var unconverted: [String] = []
        var fixed: [String: [UInt8]] = [:]
        let required = format == .docx ? "word/document.xml" : "content.xml"
        guard package.entries.contains(where: { $0.name == required }) else {
            throw DocumentError("\(file) is not a \(format == .docx ? "Word" : "OpenDocument text") document (it has no \(required))")
        }
        for entry in package.entries where format.isTextPart(entry.name) {
            guard let data = try package.data(entry.name, file: file) else { continue }
            let xml = String(decoding: data, as: UTF8.self)
            let prepared = TagLayout.arrange(FieldConversion.convert(xml, format: format), format: format)
            for instruction in Self.mergeFieldsLeft(in: prepared) { unconverted.append("\(entry.name): \(instruction)") }
            guard prepared.contains("{{") || prepared.contains("{%") else { continue }
            do {
                parts.append((entry.name, try Template(prepared, file: "\(file) (\(entry.name))"), prepared))
            } catch {
                throw DocumentError("\(file), \(Self.place(of: error.location, in: prepared, part: entry.name, format: format)): \(error.message)")
            }
        }
        if format == .docx, let settings = try package.data("word/settings.xml", file: file) {
            let xml = String(decoding: settings, as: UTF8.self)
            if let start = xml.range(of: "<w:mailMerge"), let end = xml.range(of: "</w:mailMerge>", range: start.upperBound..<xml.endIndex) {
                // Without it Word would ask for the data source on opening each letter.
                fixed["word/settings.xml"] = Array((String(xml[..<start.lowerBound]) + String(xml[end.upperBound...])).utf8)
            }
        }
        self.parts = parts
        self.fixed = fixed
        self.unconvertedFields = unconverted
    }

    /// The format a filled document comes out in (the template's own).
    public var fileExtension: String { format.rawValue }

    /// The fields the document reads.
    public var fieldReferences: [FieldReference] { parts.flatMap { $0.template.fieldReferences } }

    /// Every field that is not a column (and has no `default`), each placed by part and
    /// paragraph, with the field's text; and every merge field that could not be read.
    public func problems(against columns: [String], alsoKnown: [String] = []) -> [String] {
        var problems: [String] = []
        for part in parts {
            for error in part.template.unknownFields(against: columns, alsoKnown: alsoKnown) {
                problems.append("\(file), \(Self.place(of: error.location, in: part.prepared, part: part.name, format: format)): \(error.message)")
            }
        }
        for field in unconvertedFields {
            problems.append("\(file), \(field): a merge field Broadside cannot fill (it spans paragraphs or uses a form it does not read); retype it as {{ field }}")
        }
        return problems
    }

    /// The document for one recipient.
    public func render(_ record: MergeRecord) throws(DocumentError) -> [UInt8] {
        var replacements = fixed
        for part in parts {
            do {
                replacements[part.name] = Array(try part.template.render(record, escaping: .xml(lineBreak: format.lineBreak, tab: format.tab)).utf8)
            } catch {
                throw DocumentError("\(file), \(Self.place(of: error.location, in: part.prepared, part: part.name, format: format)): \(error.message)")
            }
        }
        return package.package.rewritten(replacing: replacements)
    }

    // MARK: places

    /// "word/document.xml, paragraph 12" for a place in a prepared part.
    static func place(of location: SourceLocation, in prepared: String, part: String, format: DocumentFormat) -> String {
        var line = 1
        var offset = prepared.endIndex
        var index = prepared.startIndex
        var column = 1
        while index < prepared.endIndex {
            if line == location.line && column == location.column { offset = index; break }
            if prepared[index] == "\n" { line += 1; column = 1 } else if line == location.line { column += 1 }
            index = prepared.index(after: index)
        }
        let before = prepared[..<offset]
        let paragraphs = format.paragraphs.reduce(0) { count, name in
            count + before.components(separatedBy: "<\(name)>").count - 1 + before.components(separatedBy: "<\(name) ").count - 1
        }
        return "\(part), paragraph \(max(1, paragraphs))"
    }

    /// MERGEFIELD instructions still in a prepared part (inside a field Broadside left alone).
    static func mergeFieldsLeft(in prepared: String) -> [String] {
        guard prepared.contains("MERGEFIELD") else { return [] }
        let parsed = XMLTokens(prepared)
        var found: [String] = []
        for (index, token) in parsed.tokens.enumerated() {
            if token.kind == .start("w:instrText"), index + 1 < parsed.tokens.count, parsed.tokens[index + 1].kind == .text {
                let text = XMLText.unescape(parsed.text(parsed.tokens[index + 1].range))
                if text.contains("MERGEFIELD") { found.append(text.trimmingCharacters(in: .whitespaces)) }
            }
            if case .start("w:fldSimple") = token.kind, let instruction = parsed.attribute("w:instr", of: token), instruction.contains("MERGEFIELD") {
                found.append(instruction.trimmingCharacters(in: .whitespaces))
            }
        }
        return found
    }
}

/// The package's bytes, shared by every render (a class: copies of the template share them).
final class ZipPackageBox: Sendable {
    let package: ZipPackage
    init(package: ZipPackage) { self.package = package }
}
