/// Parses the expression language inside `{{ }}` and `{% %}`:
/// fields, "strings", numbers, filters (`| default: "x"` or `| default("x")`),
/// `==` / `!=`, `not`, `and`, `or` and parentheses.
struct ExpressionParser {
    enum Token: Equatable {
        case identifier(String)
        case string(String)
        case number(String)
        case symbol(String)
    }

    private var tokens: [(Token, SourceLocation)] = []
    private var position = 0
    private var depth = 0
    private let end: SourceLocation

    init(_ source: String, at location: SourceLocation) throws(TemplateError) {
        end = location
        tokens = try Self.tokenize(source, at: location)
    }

    var isAtEnd: Bool { position >= tokens.count }

    var peek: Token? { position < tokens.count ? tokens[position].0 : nil }

    var location: SourceLocation { position < tokens.count ? tokens[position].1 : end }

    mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position].0
    }

    mutating func expectIdentifier(_ what: String) throws(TemplateError) -> String {
        let at = location
        guard case .identifier(let name)? = next() else {
            throw TemplateError("expected \(what)", at: at)
        }
        return name
    }

    func expectEnd() throws(TemplateError) {
        guard isAtEnd else { throw TemplateError("unexpected '\(describe(peek))'", at: location) }
    }

    mutating func parseExpression() throws(TemplateError) -> Expression {
        var left = try parseAnd()
        while peek == .identifier("or") {
            _ = next()
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> Expression {
        var left = try parseNot()
        while peek == .identifier("and") {
            _ = next()
            left = .and(left, try parseNot())
        }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> Expression {
        if peek == .identifier("not") {
            let at = location
            _ = next()
            try descend(at)
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        let left = try parseFiltered()
        if peek == .symbol("==") || peek == .symbol("!=") {
            let negated = next() == .symbol("!=")
            return .equals(left, try parseFiltered(), negated: negated)
        }
        return left
    }

    private mutating func parseFiltered() throws(TemplateError) -> Expression {
        var value = try parsePrimary()
        while peek == .symbol("|") {
            _ = next()
            let at = location
            let name = try expectIdentifier("a filter name after '|'")
            var arguments: [Expression] = []
            if peek == .symbol(":") {
                _ = next()
                arguments = try parseArguments()
            } else if peek == .symbol("(") {
                _ = next()
                if peek != .symbol(")") { arguments = try parseArguments() }
                let closeAt = location
                guard next() == .symbol(")") else { throw TemplateError("expected ')' after the arguments of '\(name)'", at: closeAt) }
            }
            value = .filter(value, name: name, arguments: arguments, at)
        }
        return value
    }

    private mutating func parseArguments() throws(TemplateError) -> [Expression] {
        var arguments = [try parsePrimary()]
        while peek == .symbol(",") {
            _ = next()
            arguments.append(try parsePrimary())
        }
        return arguments
    }

    private mutating func parsePrimary() throws(TemplateError) -> Expression {
        let at = location
        switch next() {
        case .identifier(let name) where !["and", "or", "not", "in"].contains(name):
            return .variable(name, at)
        case .string(let value):
            return .string(value)
        case .number(let value):
            return .number(value)
        case .symbol("("):
            try descend(at)
            defer { depth -= 1 }
            let inner = try parseExpression()
            let closeAt = location
            guard next() == .symbol(")") else { throw TemplateError("expected ')'", at: closeAt) }
            return inner
        case let token:
            throw TemplateError(token == nil ? "expected a field name or a value" : "unexpected '\(describe(token))'", at: at)
        }
    }

    private mutating func descend(_ at: SourceLocation) throws(TemplateError) {
        depth += 1
        if depth > TemplateLimits.expressionDepth {
            throw TemplateError("the expression nests more than \(TemplateLimits.expressionDepth) deep; simplify it", at: at)
        }
    }

    private func describe(_ token: Token?) -> String {
        switch token {
        case .identifier(let s), .number(let s), .symbol(let s): return s
        case .string(let s): return "\"\(s)\""
        case nil: return "end"
        }
    }

    private static func tokenize(_ source: String, at start: SourceLocation) throws(TemplateError) -> [(Token, SourceLocation)] {
        var tokens: [(Token, SourceLocation)] = []
        let chars = Array(source.unicodeScalars)
        var i = 0
        var line = start.line, column = start.column + 2
        func here() -> SourceLocation { SourceLocation(file: start.file, line: line, column: column) }
        func step() {
            if chars[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
        while i < chars.count {
            let c = chars[i]
            let at = here()
            if c.properties.isWhitespace {
                step()
            } else if c == "\"" || c == "'" {
                step()
                var value = String.UnicodeScalarView()
                var closed = false
                while i < chars.count {
                    if chars[i] == c { step(); closed = true; break }
                    if chars[i] == "\\", i + 1 < chars.count {
                        step()
                        let escaped = chars[i]
                        value.append(escaped == "n" ? "\n" : (escaped == "t" ? "\t" : escaped))
                        step()
                        continue
                    }
                    value.append(chars[i])
                    step()
                }
                guard closed else { throw TemplateError("a string opens here and is never closed", at: at) }
                tokens.append((.string(String(value)), at))
            } else if c.properties.numericType != nil && c.value < 0x80 || (c == "-" && i + 1 < chars.count && chars[i + 1].value >= 0x30 && chars[i + 1].value <= 0x39) {
                var value = String.UnicodeScalarView([c])
                step()
                while i < chars.count, (chars[i].value >= 0x30 && chars[i].value <= 0x39) || chars[i] == "." {
                    value.append(chars[i])
                    step()
                }
                tokens.append((.number(String(value)), at))
            } else if c.properties.isAlphabetic || c == "_" {
                var value = String.UnicodeScalarView()
                while i < chars.count, chars[i].properties.isAlphabetic || chars[i] == "_" || chars[i] == "."
                        || (chars[i].value >= 0x30 && chars[i].value <= 0x39) {
                    value.append(chars[i])
                    step()
                }
                tokens.append((.identifier(String(value)), at))
            } else if (c == "=" || c == "!"), i + 1 < chars.count, chars[i + 1] == "=" {
                step(); step()
                tokens.append((.symbol(c == "=" ? "==" : "!="), at))
            } else if "|:,()".unicodeScalars.contains(c) {
                step()
                tokens.append((.symbol(String(c)), at))
            } else {
                throw TemplateError("unexpected '\(Character(c))'", at: at)
            }
        }
        return tokens
    }
}
