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
