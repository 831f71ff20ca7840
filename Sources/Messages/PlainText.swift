import Foundation

/// A readable text alternative for an HTML body: tags dropped, links kept as
/// `text (url)`, block ends as line breaks, the common entities decoded.
public enum PlainText {
    public static func from(html: String) -> String {
        var output = ""
        var index = html.startIndex
        var pendingLink: String?
        while index < html.endIndex {
            let c = html[index]
            if c == "<", let close = html[index...].firstIndex(of: ">") {
                let tag = html[html.index(after: index)..<close].lowercased()
                let name = tag.prefix { !$0.isWhitespace && $0 != "/" || $0 == "/" && tag.hasPrefix("/") }
                if name == "style" || name == "script" || name == "head" {
                    let end = "</\(name)"
                    if let range = html[close...].range(of: end, options: .caseInsensitive),
                       let after = html[range.upperBound...].firstIndex(of: ">") {
                        index = html.index(after: after)
                        continue
                    }
                }
                switch name {
                case "br", "br/": output += "\n"
                case "/p", "/div", "/h1", "/h2", "/h3", "/h4", "/li", "/tr", "/table", "hr", "hr/": output += "\n"
                case "li": output += "- "
                case "a":
                    pendingLink = attribute("href", in: String(tag))
                case "/a":
                    if let link = pendingLink, !link.isEmpty, !output.hasSuffix(link) { output += " (\(link))" }
                    pendingLink = nil
                default: break
                }
                index = html.index(after: close)
                continue
            }
            if c == "&", let semicolon = html[index...].prefix(10).firstIndex(of: ";") {
                let entity = String(html[html.index(after: index)..<semicolon])
                if let decoded = entities[entity] {
                    output += decoded
                    index = html.index(after: semicolon)
                    continue
                }
            }
            output.append(c == "\t" ? " " : c)
            index = html.index(after: index)
        }
        // Collapse runs of spaces and of blank lines.
        var lines: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\r" })
            let text = words.joined(separator: " ")
            if text.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(text)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }

    private static let entities = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "#39": "'", "apos": "'", "nbsp": " "]

    private static func attribute(_ name: String, in tag: String) -> String? {
        guard let range = tag.range(of: "\(name)=") else { return nil }
        var rest = tag[range.upperBound...]
        guard let quote = rest.first else { return nil }
        if quote == "\"" || quote == "'" {
            rest = rest.dropFirst()
            return String(rest.prefix { $0 != quote })
        }
        return String(rest.prefix { !$0.isWhitespace })
    }
}
