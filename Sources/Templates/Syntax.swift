/// The compiled form of a template: parsed once per campaign, rendered per recipient.
public indirect enum TemplateNode: Sendable, Equatable {
    case text(String)
    case output(Expression)
    /// `{% if %}…{% elif %}…{% else %}…{% endif %}`: the first branch whose condition holds.
    case conditional(branches: [Branch], otherwise: [TemplateNode])
    /// `{% for item in field %}`: the field's value split on `;` or `,` (or a line break).
    case loop(variable: String, over: Expression, body: [TemplateNode])

    public struct Branch: Sendable, Equatable {
        public var condition: Expression
        public var body: [TemplateNode]
    }
}

/// An expression inside `{{ }}` or a `{% %}` tag.
public indirect enum Expression: Sendable, Equatable {
    case variable(String, SourceLocation)
    case string(String)
    case number(String)
    case filter(Expression, name: String, arguments: [Expression], SourceLocation)
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case equals(Expression, Expression, negated: Bool)
}

extension Expression {
    /// Where the first field the expression reads stands (where an error about it is placed).
    var location: SourceLocation? {
        switch self {
        case .variable(_, let location): return location
        case .string, .number: return nil
        case .filter(let inner, _, let arguments, let location): return inner.location ?? arguments.lazy.compactMap(\.location).first ?? location
        case .not(let inner): return inner.location
        case .and(let a, let b), .or(let a, let b), .equals(let a, let b, _): return a.location ?? b.location
        }
    }
}
