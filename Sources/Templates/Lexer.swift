/// Splits template source into text, `{{ output }}` and `{% tag %}` pieces, dropping
/// `{# comments #}` and applying whitespace control (`{{-`, `-}}`, `{%-`, `-%}`).
struct Lexer {
    enum Piece: Equatable {
        case text(String)
        case output(String, SourceLocation)
        case tag(String, SourceLocation)
    }

    static func pieces(of source: String, file: String, firstLine: Int, firstColumn: Int) throws(TemplateError) -> [Piece] {
        var pieces: [Piece] = []
        let chars = Array(source.unicodeScalars)
        var index = 0
        var line = firstLine, column = firstColumn
        var text = String.UnicodeScalarView()
        var trimNextLeading = false

        func location() -> SourceLocation { SourceLocation(file: file, line: line, column: column) }
        func advance() {
            if chars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }
        func flushText(trimTrailing: Bool) {
            var value = String(text)
            if trimNextLeading { value = String(value.drop(while: { $0.isWhitespace })) }
            if trimTrailing {
                while let last = value.last, last.isWhitespace { value.removeLast() }
            }
            if !value.isEmpty { pieces.append(.text(value)) }
            text = String.UnicodeScalarView()
            trimNextLeading = false
        }

        while index < chars.count {
            let c = chars[index]
            guard c == "{", index + 1 < chars.count, "{%#".unicodeScalars.contains(chars[index + 1]) else {
                text.append(c)
                advance()
                continue
            }
            let kind = chars[index + 1]
            let start = location()
            let close: Unicode.Scalar = kind == "{" ? "}" : (kind == "%" ? "%" : "#")
            advance(); advance()
            let trimBefore = index < chars.count && chars[index] == "-"
            if trimBefore { advance() }
            var inner = String.UnicodeScalarView()
            var closed = false
            var quote: Unicode.Scalar? = nil
            while index < chars.count {
                let d = chars[index]
                if let q = quote {
                    if d == q { quote = nil }
                } else if kind != "#" && (d == "\"" || d == "'") {
                    quote = d
                } else if d == close, index + 1 < chars.count, chars[index + 1] == "}" {
                    advance(); advance()
                    closed = true
                    break
                }
                inner.append(d)
                advance()
            }
            guard closed else {
                let what = kind == "{" ? "{{" : (kind == "%" ? "{%" : "{#")
                throw TemplateError("'\(what)' is never closed with '\(String(close))}'", at: start)
            }
            var body = String(inner)
            let trimAfter = body.hasSuffix("-")
            if trimAfter { body.removeLast() }
            flushText(trimTrailing: trimBefore)
            trimNextLeading = trimAfter
            switch kind {
            case "{": pieces.append(.output(body, start))
            case "%": pieces.append(.tag(body, start))
            default: break
            }
        }
        flushText(trimTrailing: false)
        return pieces
    }
}
