import Templates

/// Word's and LibreOffice's own merge fields turned into the template language, so that a
/// mail-merge main document made in Word works unchanged: `w:fldSimple`, complex fields
/// (`w:fldChar` begin … `w:instrText` … separate … result … end, the instruction split over
/// any number of runs, fields nested in IF), ODT's `text:database-display` and user fields.
/// Fields that are not merge fields (PAGE, TOC, DATE …) are left as they are.
enum FieldConversion {
    static func convert(_ xml: String, format: DocumentFormat) -> String {
        format == .docx ? word(xml) : openDocument(xml)
    }

    // MARK: Word

    private static func word(_ xml: String) -> String {
        simpleFields(complexFields(xml))
    }

    /// `<w:fldSimple w:instr="MERGEFIELD x">runs</w:fldSimple>`: one run in the first run's format.
    private static func simpleFields(_ xml: String) -> String {
        let parsed = XMLTokens(xml)
        let ends = parsed.matchingEnds()
        var edits = ByteEdits()
        for (index, token) in parsed.tokens.enumerated() {
            guard token.kind == .start("w:fldSimple") || token.kind == .empty("w:fldSimple"),
                  let instruction = parsed.attribute("w:instr", of: token),
                  let template = MergeFieldInstruction.template(for: instruction, nested: []), let end = ends[index] else { continue }
            let inner = (index + 1)..<end
            edits.replace(token.range.lowerBound..<parsed.tokens[end].range.upperBound,
                          with: run(properties: firstRunProperties(parsed, in: inner, ends: ends), text: template))
        }
        return edits.isEmpty ? xml : edits.applied(to: parsed.bytes)
    }

    private struct OpenField {
        var beginRun: Range<Int>
        var instruction = ""
        var nested: [String] = []
        var inResult = false
        var properties: String?
        var parent: Int?
    }

    private static func complexFields(_ xml: String) -> String {
        guard xml.contains("w:fldChar") else { return xml }
        let parsed = XMLTokens(xml)
        let ends = parsed.matchingEnds()
        var edits = ByteEdits()
        var stack: [OpenField] = []
        var index = 0
        let tokens = parsed.tokens
        while index < tokens.count {
            guard tokens[index].kind == .start("w:r"), let end = ends[index] else { index += 1; continue }
            let runRange = tokens[index].range.lowerBound..<tokens[end].range.upperBound
            let inner = (index + 1)..<end
            var fieldChar: String?
            var instruction: String?
            var hasText = false
            for i in inner {
                switch tokens[i].kind {
                case .empty("w:fldChar"), .start("w:fldChar"): fieldChar = parsed.attribute("w:fldCharType", of: tokens[i])
                case .start("w:instrText"):
                    if i + 1 < end, tokens[i + 1].kind == .text { instruction = (instruction ?? "") + XMLText.unescape(parsed.text(tokens[i + 1].range)) }
                case .start("w:t"): hasText = true
                default: break
                }
            }
            switch fieldChar {
            case "begin"?:
                stack.append(OpenField(beginRun: runRange))
            case "separate"?:
                if !stack.isEmpty { stack[stack.count - 1].inResult = true }
            case "end"?:
                if let field = stack.popLast() {
                    let template = MergeFieldInstruction.template(for: field.instruction, nested: field.nested)
                    if !stack.isEmpty {
                        // Nested in its parent's instruction: the parent reads it through a placeholder.
                        let parent = stack.count - 1
                        if !stack[parent].inResult {
                            stack[parent].instruction += MergeFieldInstruction.placeholder(stack[parent].nested.count)
                            stack[parent].nested.append(template ?? "")
                        }
                    } else if let template {
                        let span = field.beginRun.lowerBound..<runRange.upperBound
                        // A field that runs over paragraphs is left as it is (the document's structure would break).
                        if !parsed.text(span).contains("</w:p>") {
                            edits.replace(span, with: run(properties: field.properties ?? "", text: template))
                        }
                    }
                }
            default:
                if let instruction, !stack.isEmpty, !stack[stack.count - 1].inResult {
                    stack[stack.count - 1].instruction += instruction
                } else if hasText, !stack.isEmpty, stack[stack.count - 1].inResult, stack[stack.count - 1].properties == nil {
                    stack[stack.count - 1].properties = runProperties(parsed, in: inner, ends: ends)
                }
            }
            index = end + 1
        }
        return edits.isEmpty ? xml : edits.applied(to: parsed.bytes)
    }

    private static func firstRunProperties(_ parsed: XMLTokens, in range: Range<Int>, ends: [Int: Int]) -> String {
        for i in range where parsed.tokens[i].kind == .start("w:r") {
            if let end = ends[i] { return runProperties(parsed, in: (i + 1)..<end, ends: ends) }
        }
        return ""
    }

    private static func runProperties(_ parsed: XMLTokens, in range: Range<Int>, ends: [Int: Int]) -> String {
        for i in range where parsed.tokens[i].kind == .start("w:rPr") || parsed.tokens[i].kind == .empty("w:rPr") {
            let end = ends[i] ?? i
            return parsed.text(parsed.tokens[i].range.lowerBound..<parsed.tokens[end].range.upperBound)
        }
        return ""
    }

    private static func run(properties: String, text: String) -> String {
        "<w:r>\(properties)<w:t xml:space=\"preserve\">\(text)</w:t></w:r>"
    }

    // MARK: OpenDocument

    private static func openDocument(_ xml: String) -> String {
        guard xml.contains("text:database-display") || xml.contains("text:user-field-get") else { return xml }
        let parsed = XMLTokens(xml)
        let ends = parsed.matchingEnds()
        var edits = ByteEdits()
        for (index, token) in parsed.tokens.enumerated() {
            let name: String?
            switch token.kind {
            case .start("text:database-display"), .empty("text:database-display"): name = parsed.attribute("text:column-name", of: token)
            case .start("text:user-field-get"), .empty("text:user-field-get"): name = parsed.attribute("text:name", of: token)
            default: name = nil
            }
            guard let name, let end = ends[index] else { continue }
            edits.replace(token.range.lowerBound..<parsed.tokens[end].range.upperBound, with: "{{ \(FieldName.key(name)) }}")
        }
        return edits.applied(to: parsed.bytes)
    }
}
