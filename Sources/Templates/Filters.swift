import CivilDates

/// The filters a template may apply to a value. Every value is text, as in a CSV.
enum Filters {
    /// Name and allowed argument counts.
    static let arity: [String: ClosedRange<Int>] = [
        "default": 1...1, "upper": 0...0, "lower": 0...0, "title": 0...0, "capitalize": 0...0,
        "trim": 0...0, "replace": 2...2, "number": 0...1, "date": 1...2,
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
            return try formatDate(value, format: arguments[0], input: arguments.count > 1 ? arguments[1] : nil, at: location)
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

    /// The date `value` stands for, or nil when it is none of the forms read.
    static func readDate(_ value: String, input: String?, at location: SourceLocation) throws(TemplateError) -> (Int, Int, Int)? {
        let text = String(value.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        func valid(_ y: Int, _ m: Int, _ d: Int) -> (Int, Int, Int)? {
            guard (1...9999).contains(y), (1...12).contains(m), d >= 1, d <= CivilDate.daysIn(month: m, year: y) else { return nil }
            return (y, m, d)
        }
        if let input {
            // The codes %Y %y %m %d, other characters as they are; digits may be one or two wide.
            var fields: [Character: Int] = [:]
            var rest = Substring(text)
            var codes = input.makeIterator()
            while let c = codes.next() {
                if c == "%", let code = codes.next() {
                    let width = code == "Y" ? 4 : 2
                    let digits = rest.prefix { $0.isASCII && $0.isNumber }.prefix(width)
                    guard !digits.isEmpty, let number = Int(digits) else { return nil }
                    fields[code] = number
                    rest = rest.dropFirst(digits.count)
                } else {
                    guard rest.first == c else { return nil }
                    rest = rest.dropFirst()
                }
            }
            guard rest.isEmpty, let m = fields["m"], let d = fields["d"], let y = fields["Y"] ?? fields["y"].map({ 2000 + $0 }) else { return nil }
            return valid(y, m, d)
        }
        let numbers = text.prefix { !$0.isWhitespace && $0 != "T" }.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." }).map(String.init)
        let separator = text.first { $0 == "-" || $0 == "/" || $0 == "." }
        if numbers.count == 3, numbers.allSatisfy({ Int($0) != nil }) {
            let (a, b, c) = (Int(numbers[0]) ?? 0, Int(numbers[1]) ?? 0, Int(numbers[2]) ?? 0)
            if numbers[0].count == 4 { return valid(a, b, c) }                        // 2026-11-30, 2026/11/30
            if separator == ".", numbers[2].count == 4 { return valid(c, b, a) }      // 30.11.2026
            if separator == "/", numbers[2].count == 4 {
                throw TemplateError("'\(value)' could be day/month or month/day; give its format as a second argument, e.g. date: \"%d %B %Y\", \"%m/%d/%Y\"", at: location)
            }
            return nil
        }
        if text.count == 8, let number = Int(text) { return valid(number / 10_000, number / 100 % 100, number % 100) }   // 20261130
        if let serial = Double(text), serial >= 1, serial < 2_958_466 {
            // Excel counts days from 1899-12-30 (its 1900 is a leap year that was not).
            let (y, m, d) = CivilDate.from(daysSince1970: Int(serial.rounded(.down)) - 25_569)
            return valid(y, m, d)
        }
        return nil
    }

    private static let months = ["January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"]

    /// `2026-03-09 | date: "%d %B %Y"` is `09 March 2026`. Reads the dates spreadsheets
    /// write: `2026-03-09` and `2026/03/09` (a time after it is ignored), `09.03.2026`,
    /// `20260309`, and Excel's serial numbers (`46356`); `03/09/2026` is day/month or
    /// month/day by country, so it needs its input format as a second argument:
    /// `date: "%d %B %Y", "%m/%d/%Y"`.
    private static func formatDate(_ value: String, format: String, input: String?, at location: SourceLocation) throws(TemplateError) -> String {
        if value.isEmpty { return "" }
        guard let (year, month, day) = try readDate(value, input: input, at: location) else {
            throw TemplateError("'\(value)' is not a date this filter reads (2026-11-30, 2026/11/30, 30.11.2026, 20261130 or an Excel serial number); give its format as a second argument, e.g. date: \"%d %B %Y\", \"%m/%d/%Y\"", at: location)
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
