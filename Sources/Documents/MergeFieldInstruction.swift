import Templates

/// A Word field instruction (`MERGEFIELD "Last Name" \* Upper`, `IF … = "x" "a" "b"`) as the
/// template language says it. Nested fields arrive as placeholders standing for the
/// template text already made for them.
struct MergeFieldInstruction {
    /// The template text for the field; nil for fields that are not merge fields (PAGE, TOC …).
    static func template(for instruction: String, nested: [String]) -> String? {
        let words = tokens(instruction)
        guard let kind = words.first?.text.uppercased() else { return nil }
        switch kind {
        case "MERGEFIELD": return mergeField(Array(words.dropFirst()))
        case "IF": return ifField(Array(words.dropFirst()), nested: nested)
        default: return nil
        }
    }

    /// A placeholder for nested field `index` inside its parent's instruction.
    static func placeholder(_ index: Int) -> String { "\u{E000}\(index)\u{E001}" }

    struct Word {
        var text: String
        var quoted: Bool
    }

    static func tokens(_ instruction: String) -> [Word] {
        var words: [Word] = []
        var current = ""
        var inQuotes = false
        var wasQuoted = false
        for character in instruction.replacingAll("\u{201C}", "\"").replacingAll("\u{201D}", "\"") {
            if character == "\"" {
                if inQuotes { words.append(Word(text: current, quoted: true)); current = ""; wasQuoted = false } else {
                    if !current.isEmpty { words.append(Word(text: current, quoted: false)); current = "" }
                    wasQuoted = true
                }
                inQuotes.toggle()
            } else if character.isWhitespace && !inQuotes {
                if !current.isEmpty { words.append(Word(text: current, quoted: wasQuoted)); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(Word(text: current, quoted: inQuotes)) }
        return words
    }

    private static func mergeField(_ words: [Word]) -> String? {
        guard let name = words.first?.text, !name.hasPrefix("\\") else { return nil }
        let key = FieldName.key(name)
        var filters = ""
        var before = "", after = ""
        var index = 1
        while index < words.count {
            let word = words[index].text
            let argument = index + 1 < words.count ? words[index + 1].text : ""
            switch word {
            case "\\*":
                switch argument.lowercased() {
                case "upper": filters += " | upper"
                case "lower": filters += " | lower"
                case "caps": filters += " | title"
                case "firstcap": filters += " | capitalize"
                default: break      // MERGEFORMAT, CHARFORMAT: Word's own formatting, kept by the run
                }
                index += 2
            case "\\@":
                filters += " | date: \"\(dateFormat(argument))\""
                index += 2
            case "\\#":
                let decimals = argument.split(separator: ".").dropFirst().first.map { $0.filter { $0 == "0" || $0 == "#" }.count } ?? 0
                filters += " | number: \(decimals)"
                index += 2
            case "\\b": before = argument; index += 2
            case "\\f": after = argument; index += 2
            default: index += 1    // \m, \v and words Broadside need not read
            }
        }
        let output = "{{ \(key)\(filters) }}"
        guard !before.isEmpty || !after.isEmpty else { return output }
        return "{% if \(key) %}\(XMLText.escape(before))\(output)\(XMLText.escape(after)){% endif %}"
    }

    /// `IF «x» = "value" "when so" "otherwise"` (also `<>`); the texts may hold nested fields.
    private static func ifField(_ words: [Word], nested: [String]) -> String? {
        guard words.count >= 4 else { return nil }
        func resolve(_ text: String) -> String {
            var text = text
            for (index, template) in nested.enumerated() { text = text.replacingAll(placeholder(index), template) }
            return text
        }
        func operand(_ word: Word) -> String? {
            if let index = nested.indices.first(where: { word.text == placeholder($0) }) {
                // The nested field's own expression, without its braces.
                let template = nested[index]
                guard template.hasPrefix("{{ "), template.hasSuffix(" }}") else { return nil }
                return String(template.dropFirst(3).dropLast(3))
            }
            return "\"" + word.text.replacingAll("\"", "") + "\""
        }
        guard let left = operand(words[0]), let right = operand(words[2]) else { return nil }
        let comparison: String
        switch words[1].text {
        case "=", "==": comparison = "=="
        case "<>": comparison = "!="
        default: return nil
        }
        let whenTrue = resolve(XMLText.escape(words[3].text))
        let whenFalse = words.count > 4 ? resolve(XMLText.escape(words[4].text)) : ""
        return "{% if \(left) \(comparison) \(right) %}\(whenTrue){% else %}\(whenFalse){% endif %}"
    }

    /// Word's date picture (`dd MMMM yyyy`) as the date filter's format (`%d %B %Y`).
    static func dateFormat(_ picture: String) -> String {
        var output = ""
        var characters = Array(picture)[...]
        while let first = characters.first {
            let run = characters.prefix { $0 == first }.count
            characters = characters.dropFirst(run)
            switch (first, run) {
            case ("y", 4...): output += "%Y"
            case ("y", _): output += "%y"
            case ("M", 4...): output += "%B"
            case ("M", 3): output += "%b"
            case ("M", _): output += "%m"
            case ("d", 2): output += "%d"
            case ("d", 1): output += "%e"
            case ("'", _): break
            case ("%", _): output += String(repeating: "%%", count: run)
            default: output += String(repeating: first, count: run)
            }
        }
        return output
    }
}
