/// A compiled template: parsed once, checked against the list's columns, rendered
/// for each recipient. The syntax tree is a value, safe to share across threads.
public struct Template: Sendable, Equatable {
    public let file: String
    public let nodes: [TemplateNode]

    /// Compiles `source`; `firstLine` and `firstColumn` place it within a larger file (a header's value).
    public init(_ source: String, file: String, firstLine: Int = 1, firstColumn: Int = 1) throws(TemplateError) {
        self.file = file
        var parser = TreeBuilder(pieces: try Lexer.pieces(of: source, file: file, firstLine: firstLine, firstColumn: firstColumn))
        self.nodes = try parser.build()
    }

    /// Renders for one recipient. `escaping` applies to every value, never to the template's own text.
    public func render(_ record: MergeRecord, escaping: Escaping = .none) throws(TemplateError) -> String {
        var output = ""
        var renderer = Renderer(record: record, escaping: escaping)
        try renderer.render(nodes, into: &output)
        return output
    }

    /// The fields the template reads, each with where and whether a `default` filter guards it.
    public var fieldReferences: [FieldReference] {
        var references: [FieldReference] = []
        FieldReference.collect(nodes, loopVariables: [], into: &references)
        return references
    }

    /// Throws for the first field that is not a column and has no `default`, listing the columns.
    public func checkFields(against columns: [String]) throws(TemplateError) {
        let known = Set(columns.map(FieldName.key))
        for reference in fieldReferences where !reference.isOptional && !known.contains(FieldName.key(reference.name)) {
            let list = columns.isEmpty ? "none" : columns.joined(separator: ", ")
            throw TemplateError(
                "'\(reference.name)' is not a column of the list (columns: \(list)); fix the name, or write {{ \(reference.name) | default: \"…\" }} to make it optional",
                at: reference.location)
        }
    }
}

/// Whether values are escaped for the part they land in.
public enum Escaping: Sendable {
    /// Text parts and headers: values as they are.
    case none
    /// HTML parts: `<`, `>`, `&`, `"` and `'` become entities.
    case html
}

/// A field read by a template.
public struct FieldReference: Sendable, Equatable {
    public var name: String
    public var location: SourceLocation
    /// Guarded by `default`: an absent or empty value is not an error.
    public var isOptional: Bool
    /// Printed (`{{ }}`), as opposed to only tested in a condition.
    public var isPrinted: Bool

    static func collect(_ nodes: [TemplateNode], loopVariables: Set<String>, into references: inout [FieldReference]) {
        for node in nodes {
            switch node {
            case .text:
                break
            case .output(let expression):
                collect(expression, optional: false, printed: true, loopVariables: loopVariables, into: &references)
            case .conditional(let branches, let otherwise):
                for branch in branches {
                    collect(branch.condition, optional: false, printed: false, loopVariables: loopVariables, into: &references)
                    collect(branch.body, loopVariables: loopVariables, into: &references)
                }
                collect(otherwise, loopVariables: loopVariables, into: &references)
            case .loop(let variable, let sequence, let body):
                collect(sequence, optional: false, printed: false, loopVariables: loopVariables, into: &references)
                collect(body, loopVariables: loopVariables.union([FieldName.key(variable)]), into: &references)
            }
        }
    }

    private static func collect(_ expression: Expression, optional: Bool, printed: Bool, loopVariables: Set<String>, into references: inout [FieldReference]) {
        switch expression {
        case .variable(let name, let location):
            if !loopVariables.contains(FieldName.key(name)) {
                references.append(FieldReference(name: name, location: location, isOptional: optional, isPrinted: printed))
            }
        case .string, .number:
            break
        case .filter(let inner, let name, let arguments, _):
            collect(inner, optional: optional || name == "default", printed: printed, loopVariables: loopVariables, into: &references)
            for argument in arguments {
                collect(argument, optional: optional, printed: printed, loopVariables: loopVariables, into: &references)
            }
        case .not(let inner):
            collect(inner, optional: optional, printed: false, loopVariables: loopVariables, into: &references)
        case .and(let a, let b), .or(let a, let b), .equals(let a, let b, _):
            collect(a, optional: optional, printed: false, loopVariables: loopVariables, into: &references)
            collect(b, optional: optional, printed: false, loopVariables: loopVariables, into: &references)
        }
    }
}
