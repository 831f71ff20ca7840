/// The filters a template may apply to a value. Every value is text, as in a CSV.
enum Filters {
    /// Name and allowed argument counts.
    static let arity: [String: ClosedRange<Int>] = [
        "default": 1...1, "upper": 0...0, "lower": 0...0, "title": 0...0, "capitalize": 0...0,
        "trim": 0...0, "replace": 2...2, "number": 0...1, "date": 1...1,
    ]

    /// Checks every filter in `expression` exists and gets the right number of arguments.
    static func validate(_ expression: Expression) throws(TemplateError) {
        switch expression {
        case .variable, .string, .number:
            return
        case .filter(let inner, let name, let arguments, let location):
            guard let allowed = arity[name] else {
                let names = arity.keys.sorted().joined(separator: ", ")
                throw TemplateError("unknown filter '\(name)'; the filters are \(names)", at: location)
            }
            guard allowed.contains(arguments.count) else {
                let expected = allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" : "\(allowed.lowerBound) to \(allowed.upperBound)"
                throw TemplateError("'\(name)' takes \(expected) argument(s), not \(arguments.count)", at: location)
            }
            try validate(inner)
            for argument in arguments { try validate(argument) }
        case .not(let inner):
            try validate(inner)
        case .and(let a, let b), .or(let a, let b), .equals(let a, let b, _):
            try validate(a)
            try validate(b)
        }
    }

    static func apply(_ name: String, to value: String, arguments: [String], at location: SourceLocation) throws(TemplateError) -> String {
        switch name {
        case "default":
            return value.isEmpty ? arguments[0] : value
        case "upper":
            return value.uppercased()
        case "lower":
            return value.lowercased()
        case "title":
            return value.split(separator: " ", omittingEmptySubsequences: false)
                .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }
                .joined(separator: " ")
        case "capitalize":
            return value.prefix(1).uppercased() + value.dropFirst().lowercased()
        case "trim":
            return String(value.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        case "replace":
            return value.isEmpty || arguments[0].isEmpty ? value : value.split(separator: arguments[0], omittingEmptySubsequences: false).joined(separator: arguments[1])
        case "number":
            return try formatNumber(value, decimals: arguments.first, at: location)
        case "date":
            return try formatDate(value, format: arguments[0], at: location)
        default:
            throw TemplateError("unknown filter '\(name)'", at: location)
        }
    }

    /// `1234.5 | number: 2` is `1,234.50`; an empty value stays empty.
    private static func formatNumber(_ value: String, decimals: String?, at location: SourceLocation) throws(TemplateError) -> String {
        let trimmed = value.filter { $0 != "," && $0 != " " }
        if trimmed.isEmpty { return "" }
        guard let number = Double(trimmed), number.isFinite else {
            throw TemplateError("'\(value)' is not a number (filter 'number')", at: location)
        }
        let places = decimals.flatMap { Int($0) } ?? 0
        guard (0...9).contains(places) else { throw TemplateError("'number' takes 0 to 9 decimal places", at: location) }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(number) * scale).rounded(.toNearestOrAwayFromZero)
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        grouped = digits + grouped
        if places > 0 {
            let fractionDigits = String(fraction)
            grouped += "." + String(repeating: "0", count: places - fractionDigits.count) + fractionDigits
        }
        return (number < 0 && scaled > 0 ? "-" : "") + grouped
    }

    private static let months = ["January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"]

    /// `2026-03-09 | date: "%d %B %Y"` is `09 March 2026`. Reads `YYYY-MM-DD` (a time after it is ignored).
    private static func formatDate(_ value: String, format: String, at location: SourceLocation) throws(TemplateError) -> String {
        if value.isEmpty { return "" }
        let parts = value.prefix(10).split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              parts[0].count == 4, (1...12).contains(month), (1...31).contains(day) else {
            throw TemplateError("'\(value)' is not a date written YYYY-MM-DD (filter 'date')", at: location)
        }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var output = ""
        var iterator = format.makeIterator()
        while let c = iterator.next() {
            guard c == "%", let code = iterator.next() else { output.append(c); continue }
            switch code {
            case "Y": output += String(year)
            case "y": output += two(year % 100)
            case "m": output += two(month)
            case "d": output += two(day)
            case "e": output += String(day)
            case "B": output += months[month - 1]
            case "b": output += String(months[month - 1].prefix(3))
            case "%": output += "%"
            default: throw TemplateError("'%\(code)' is not a date code; use %Y %y %m %d %e %B %b", at: location)
            }
        }
        return output
    }
}
