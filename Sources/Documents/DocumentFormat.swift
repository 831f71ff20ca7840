/// What differs between a Word and an OpenDocument text: where the text lies, what a
/// paragraph and a table row are, and how a line break is written.
enum DocumentFormat: String, Sendable {
    case docx, odt

    init?(file: String) {
        switch file.split(separator: ".").last?.lowercased() {
        case "docx", "docm", "dotx": self = .docx
        case "odt", "ott": self = .odt
        default: return nil
        }
    }

    /// The parts that hold text: the body, headers, footers, notes (text boxes sit in them).
    func isTextPart(_ name: String) -> Bool {
        switch self {
        case .docx:
            guard name.hasPrefix("word/"), name.hasSuffix(".xml"), !name.contains("/_rels/") else { return false }
            let file = name.dropFirst(5)
            return file == "document.xml" || file.hasPrefix("header") || file.hasPrefix("footer") || file == "footnotes.xml" || file == "endnotes.xml"
        case .odt:
            return name == "content.xml" || name == "styles.xml"
        }
    }

    var paragraphs: Set<String> { self == .docx ? ["w:p"] : ["text:p", "text:h"] }
    var rows: Set<String> { self == .docx ? ["w:tr"] : ["table:table-row"] }
    /// The element whose text is the document's text (nil: all text inside a paragraph).
    var textElement: String? { self == .docx ? "w:t" : nil }
    var lineBreak: String { self == .docx ? "</w:t><w:br/><w:t xml:space=\"preserve\">" : "<text:line-break/>" }
    var tab: String { self == .docx ? "</w:t><w:tab/><w:t xml:space=\"preserve\">" : "<text:tab/>" }
}
