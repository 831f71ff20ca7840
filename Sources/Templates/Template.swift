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
    public func checkFields(against columns: [String], alsoKnown: [String] = []) throws(TemplateError) {
        if let first = unknownFields(against: columns, alsoKnown: alsoKnown).first { throw first }
    }

    /// Every field that is not a column (nor one of `alsoKnown`, such as `unsubscribe_url`)
    /// and has no `default`, each with its place, the list's columns and the nearest name.
    public func unknownFields(against columns: [String], alsoKnown: [String] = []) -> [TemplateError] {
        FieldReference.unknown(fieldReferences, against: columns, alsoKnown: alsoKnown)
    }
}

/// Whether values are escaped for the part they land in.
public enum Escaping: Sendable {
    /// Text parts and headers: values as they are.
    case none
    /// HTML parts: `<`, `>`, `&`, `"` and `'` become entities.
    case html
    /// A document's XML text: entities as in HTML, characters XML forbids dropped, and a
    /// line break (or a tab) in a value written as the document's own markup for one.
    case xml(lineBreak: String, tab: String)
}

/// A field read by a template.
public struct FieldReference: Sendable, Equatable {
    public var name: String
    public var location: SourceLocation
    /// Guarded by `default`: an absent or empty value is not an error.
    public var isOptional: Bool
    /// Printed (`{{ }}`), as opposed to only tested in a condition.
    public var isPrinted: Bool

    /// Printed inside a condition that holds only when the field is not empty
    /// (`{% if city %}… {{ city }} …{% endif %}`): an empty value prints nothing wrong.
    public var isGuarded = false

    public init(name: String, location: SourceLocation, isOptional: Bool, isPrinted: Bool, isGuarded: Bool = false) {
        self.name = name
        self.location = location
        self.isOptional = isOptional
        self.isPrinted = isPrinted
        self.isGuarded = isGuarded
    }

    static func collect(_ nodes: [TemplateNode], loopVariables: Set<String>, guarded: Set<String> = [],
                        into references: inout [FieldReference]) {
        for node in nodes {
            switch node {
            case .text:
                break
            case .output(let expression):
                let start = references.count
                collect(expression, optional: false, printed: true, loopVariables: loopVariables, into: &references)
                for index in start..<references.count where guarded.contains(FieldName.key(references[index].name)) {
                    references[index].isGuarded = true
                }
            case .conditional(let branches, let otherwise):
                for branch in branches {
                    collect(branch.condition, optional: false, printed: false, loopVariables: loopVariables, into: &references)
                    collect(branch.body, loopVariables: loopVariables, guarded: guarded.union(nonEmpty(when: branch.condition)),
                            into: &references)
                }
                collect(otherwise, loopVariables: loopVariables, guarded: guarded, into: &references)
            case .loop(let variable, let sequence, let body):
                collect(sequence, optional: false, printed: false, loopVariables: loopVariables, into: &references)
                collect(body, loopVariables: loopVariables.union([FieldName.key(variable)]), guarded: guarded, into: &references)
            }
        }
    }

    /// The fields a condition, when it holds, shows to be non-empty: `city`, `city | upper`,
    /// `a and b`, `plan == "pro"`. (`or`, `not` and `default` show nothing for sure.)
    static func nonEmpty(when condition: Expression) -> Set<String> {
        switch condition {
        case .variable(let name, _):
            return [FieldName.key(name)]
        case .filter(let inner, let name, _, _):
            return name == "default" ? [] : nonEmpty(when: inner)
        case .and(let a, let b):
            return nonEmpty(when: a).union(nonEmpty(when: b))
        case .equals(.variable(let name, _), .string(let text), negated: false) where !text.isEmpty,
             .equals(.string(let text), .variable(let name, _), negated: false) where !text.isEmpty:
            return [FieldName.key(name)]
        default:
            return []
        }
    }

    /// The references to fields that are neither columns nor `alsoKnown` and have no `default`.
    static func unknown(_ references: [FieldReference], against columns: [String], alsoKnown: [String]) -> [TemplateError] {
        let known = Set((columns + alsoKnown).map(FieldName.key))
        let list = columns.isEmpty ? "none" : columns.joined(separator: ", ")
        return references.filter { !$0.isOptional && !known.contains(FieldName.key($0.name)) }.map { reference in
            let hint = NearestName.nearest(reference.name, among: columns).map { "did you mean '\($0)'? " } ?? ""
            return TemplateError(
                "'\(reference.name)' is not a column of the list (columns: \(list)); \(hint)fix the name, or write {{ \(reference.name) | default: \"…\" }} to make it optional",
                at: reference.location)
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
