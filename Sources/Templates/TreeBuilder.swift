/// Builds the syntax tree from lexed pieces, matching `if`/`elif`/`else`/`endif`
/// and `for`/`endfor`.
struct TreeBuilder {
    private let pieces: [Lexer.Piece]
    private var position = 0
    private var depth = 0

    init(pieces: [Lexer.Piece]) {
        self.pieces = pieces
    }

    mutating func build() throws(TemplateError) -> [TemplateNode] {
        let (nodes, terminator) = try parseBlock(until: [])
        if let (name, location) = terminator {
            throw TemplateError("'{% \(name) %}' has no opening tag", at: location)
        }
        return nodes
    }

    /// Parses nodes until one of `terminators` (returned with its parser) or the end.
    private mutating func parseBlock(until terminators: Set<String>) throws(TemplateError) -> ([TemplateNode], (String, SourceLocation)?) {
        var nodes: [TemplateNode] = []
        depth += 1
        defer { depth -= 1 }
        if depth > TemplateLimits.blockDepth + 1, position > 0, case .tag(_, let location) = pieces[position - 1] {
            throw TemplateError("blocks nest more than \(TemplateLimits.blockDepth) deep here; flatten the {% if %}/{% for %} tags", at: location)
        }
        while position < pieces.count {
            let piece = pieces[position]
            position += 1
            switch piece {
            case .text(let text):
                nodes.append(.text(text))
            case .output(let source, let location):
                var parser = try ExpressionParser(source, at: location)
                let expression = try parser.parseExpression()
                try parser.expectEnd()
                try Filters.validate(expression)
                nodes.append(.output(expression))
            case .tag(let source, let location):
                var parser = try ExpressionParser(source, at: location)
                let keyword = try parser.expectIdentifier("a tag name such as if, for or endif")
                switch keyword {
                case "if":
                    nodes.append(try parseConditional(&parser, at: location))
                case "for":
                    nodes.append(try parseLoop(&parser, at: location))
                case _ where terminators.contains(keyword):
                    return (nodes, (keyword, location))
                case "elif", "else", "endif", "endfor":
                    throw TemplateError("'{% \(keyword) %}' has no opening tag", at: location)
                default:
                    throw TemplateError("unknown tag '\(keyword)'; the tags are if, elif, else, endif, for and endfor", at: location)
                }
                // `parser` is consumed by the branch above; the terminator's own parser is re-read below.
            }
        }
        return (nodes, nil)
    }

    private mutating func parseConditional(_ parser: inout ExpressionParser, at location: SourceLocation) throws(TemplateError) -> TemplateNode {
        var condition = try parser.parseExpression()
        try parser.expectEnd()
        try Filters.validate(condition)
        var branches: [TemplateNode.Branch] = []
        while true {
            let (body, terminator) = try parseBlock(until: ["elif", "else", "endif"])
            branches.append(.init(condition: condition, body: body))
            guard let (keyword, tagLocation) = terminator else {
                throw TemplateError("'{% if %}' is never closed with '{% endif %}'", at: location)
            }
            switch keyword {
            case "elif":
                var tagParser = try reparse(tagLocation)
                condition = try tagParser.parseExpression()
                try tagParser.expectEnd()
                try Filters.validate(condition)
            case "else":
                try reparse(tagLocation).expectEnd()
                let (otherwise, end) = try parseBlock(until: ["endif"])
                guard end != nil else {
                    throw TemplateError("'{% if %}' is never closed with '{% endif %}'", at: location)
                }
                return .conditional(branches: branches, otherwise: otherwise)
            default:
                try reparse(tagLocation).expectEnd()
                return .conditional(branches: branches, otherwise: [])
            }
        }
    }

    private mutating func parseLoop(_ parser: inout ExpressionParser, at location: SourceLocation) throws(TemplateError) -> TemplateNode {
        let variable = try parser.expectIdentifier("a loop variable after 'for'")
        let inAt = parser.location
        guard parser.next() == .identifier("in") else { throw TemplateError("expected 'in' after '\(variable)'", at: inAt) }
        let sequence = try parser.parseExpression()
        try parser.expectEnd()
        try Filters.validate(sequence)
        let (body, terminator) = try parseBlock(until: ["endfor"])
        guard terminator != nil else { throw TemplateError("'{% for %}' is never closed with '{% endfor %}'", at: location) }
        return .loop(variable: variable, over: sequence, body: body)
    }

    /// A parser for the tag just returned as a terminator, positioned after its keyword.
    private func reparse(_ location: SourceLocation) throws(TemplateError) -> ExpressionParser {
        guard case .tag(let source, _) = pieces[position - 1] else {
            return try ExpressionParser("", at: location)
        }
        var parser = try ExpressionParser(source, at: location)
        _ = parser.next()
        return parser
    }
}
