/// Walks the syntax tree for one recipient.
struct Renderer {
    let record: MergeRecord
    let escaping: Escaping
    private var loopValues: [String: String] = [:]
    private var iterations = 0

    init(record: MergeRecord, escaping: Escaping) {
        self.record = record
        self.escaping = escaping
    }

    mutating func render(_ nodes: [TemplateNode], into output: inout String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .output(let expression):
                let value = try evaluate(expression)
                switch escaping {
                case .none: output += value
                case .html: HTML.escape(value, into: &output)
                case .xml(let lineBreak, let tab): HTML.escapeXML(value, lineBreak: lineBreak, tab: tab, into: &output)
                }
                if output.utf8.count > TemplateLimits.outputCharacters {
                    throw TemplateError("the message renders to more than \(TemplateLimits.outputCharacters / 1_000_000) MB here; that is no message to send",
                                        at: expression.location ?? Self.nowhere)
                }
            case .conditional(let branches, let otherwise):
                var taken = false
                for branch in branches where try isTrue(branch.condition) {
                    try render(branch.body, into: &output)
                    taken = true
                    break
                }
                if !taken { try render(otherwise, into: &output) }
            case .loop(let variable, let sequence, let body):
                let key = FieldName.key(variable)
                let saved = loopValues[key]
                for item in Self.items(of: try evaluate(sequence)) {
                    iterations += 1
                    if iterations > TemplateLimits.loopIterations || output.utf8.count > TemplateLimits.outputCharacters {
                        throw TemplateError("the loops here run more than \(TemplateLimits.loopIterations) times or render more than \(TemplateLimits.outputCharacters / 1_000_000) MB for one message",
                                            at: sequence.location ?? Self.nowhere)
                    }
                    loopValues[key] = item
                    try render(body, into: &output)
                }
                loopValues[key] = saved
            }
        }
    }

    static let nowhere = SourceLocation(file: "", line: 0, column: 0)

    /// A field holding a list: items separated by line breaks, `;` or `,` (the first found).
    static func items(of value: String) -> [String] {
        let separator: Character = value.contains("\n") ? "\n" : (value.contains(";") ? ";" : ",")
        return value.split(separator: separator).map { String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
            .filter { !$0.isEmpty }
    }

    private func isTrue(_ expression: Expression) throws(TemplateError) -> Bool {
        switch expression {
        case .not(let inner): return try !isTrue(inner)
        case .and(let a, let b):
            guard try isTrue(a) else { return false }
            return try isTrue(b)
        case .or(let a, let b):
            if try isTrue(a) { return true }
            return try isTrue(b)
        case .equals(let a, let b, let negated): return try (evaluate(a) == evaluate(b)) != negated
        default: return try !evaluate(expression).isEmpty
        }
    }

    private func evaluate(_ expression: Expression) throws(TemplateError) -> String {
        switch expression {
        case .variable(let name, let location):
            let key = FieldName.key(name)
            if let value = loopValues[key] ?? record[key: key] { return value }
            throw TemplateError("the recipient has no field '\(name)'", at: location)
        case .string(let value), .number(let value):
            return value
        case .filter(let inner, let name, let arguments, let location):
            let value: String
            if name == "default", case .variable(let field, _) = inner, loopValues[FieldName.key(field)] == nil, record[key: FieldName.key(field)] == nil {
                value = ""
            } else {
                value = try evaluate(inner)
            }
            var values: [String] = []
            for argument in arguments { values.append(try evaluate(argument)) }
            return try Filters.apply(name, to: value, arguments: values, at: location)
        case .not, .and, .or, .equals:
            return try isTrue(expression) ? "true" : ""
        }
    }
}

/// HTML escaping of values for HTML parts and reports.
public enum HTML {
    public static func escape(_ value: String, into output: inout String) {
        for character in value {
            switch character {
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "&": output += "&amp;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
    }

    /// For XML text: line breaks and tabs become `lineBreak` and `tab` (markup), and the
    /// control characters XML 1.0 forbids are left out.
    public static func escapeXML(_ value: String, lineBreak: String, tab: String, into output: inout String) {
        var previousWasReturn = false
        for character in value {
            defer { previousWasReturn = character == "\r" }
            switch character {
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "&": output += "&amp;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            case "\r\n", "\r": output += lineBreak
            case "\n": if !previousWasReturn { output += lineBreak }
            case "\t": output += tab
            default:
                if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1, scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    continue
                }
                output.append(character)
            }
        }
    }

    public static func escape(_ value: String) -> String {
        var output = ""
        escape(value, into: &output)
        return output
    }
}
