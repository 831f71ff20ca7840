import Foundation

/// Word splits what the user typed into runs (spell-checking, revision ids, formatting)
/// with `w:proofErr`, bookmarks and the like between them: a `{{ field }}` typed once may
/// lie over three runs. Each tag is gathered into the text of the run where it begins (so
/// it takes that run's formatting); the runs it came from keep the rest of their text.
/// Then a paragraph or table row that holds only `{% %}` tags gives way to its tags (no
/// empty paragraph is left where an `{% if %}` stood), and a row holding a
/// `{% for %}…{% endfor %}` is repeated whole.
enum TagLayout {
    static func arrange(_ xml: String, format: DocumentFormat) -> String {
        hoistControlTags(joinSplitTags(xml, format: format), format: format)
    }

    // MARK: joining

    private struct Segment {
        var token: Int
        var text: String
        /// The start tag of the element holding it (Word's `w:t`), to mark as preserving spaces.
        var holder: Int?
    }

    static func joinSplitTags(_ xml: String, format: DocumentFormat) -> String {
        guard xml.contains("{") else { return xml }
        let parsed = XMLTokens(xml)
        var edits = ByteEdits()
        var paragraphDepth = 0
        var segments: [Segment] = []
        var holder: Int?
        var paragraphStack: [[Segment]] = []
        for (index, token) in parsed.tokens.enumerated() {
            switch token.kind {
            case .start(let name) where format.paragraphs.contains(name):
                paragraphStack.append(segments)
                segments = []
                paragraphDepth += 1
            case .end(let name) where format.paragraphs.contains(name):
                join(&segments, parsed: parsed, edits: &edits)
                segments = paragraphStack.popLast() ?? []
                paragraphDepth -= 1
            case .start(let name) where name == format.textElement:
                holder = index
            case .end(let name) where name == format.textElement:
                holder = nil
            case .text where paragraphDepth > 0 && (format.textElement == nil || holder != nil):
                segments.append(Segment(token: index, text: parsed.text(token.range), holder: holder))
            default:
                break
            }
        }
        return edits.isEmpty ? xml : edits.applied(to: parsed.bytes)
    }

    /// Moves each tag's pieces into the segment where it starts.
    private static func join(_ segments: inout [Segment], parsed: XMLTokens, edits: inout ByteEdits) {
        let whole = segments.map(\.text).joined()
        guard whole.contains("{{") || whole.contains("{%") else { return }
        var texts = segments.map { Array($0.text.utf8) }
        var changed = Set<Int>()
        var tagStarts = Set<Int>()
        var segment = 0, offset = 0
        while segment < texts.count {
            // Find a tag opening at (segment, offset), possibly with its brace in the next segment.
            guard offset < texts[segment].count else { segment += 1; offset = 0; continue }
            guard texts[segment][offset] == 0x7B, let next = byte(after: (segment, offset), in: texts),
                  next.value == 0x7B || next.value == 0x25 else { offset += 1; continue }
            let closer: UInt8 = next.value == 0x7B ? 0x7D : 0x25
            // Collect up to the closing "}}" or "%}".
            var cursor = (segment, offset)
            var collected: [UInt8] = []
            var positions: [(Int, Int)] = []
            var found = false
            while let current = byte(at: cursor, in: texts) {
                collected.append(current)
                positions.append(cursor)
                if collected.count >= 4, collected[collected.count - 2] == closer, current == 0x7D { found = true; break }
                guard let after = byte(after: cursor, in: texts) else { break }
                cursor = after.position
            }
            guard found else { offset += 1; continue }
            tagStarts.insert(segment)
            // Take the tag's bytes out of the segments after the first and put them all in the first.
            let last = positions[positions.count - 1]
            if last.0 != segment {
                for s in (segment + 1)...last.0 {
                    let take = s == last.0 ? last.1 + 1 : texts[s].count
                    texts[s].removeFirst(take)
                    changed.insert(s)
                }
                // (What followed the tag's start in this segment was all tag.)
                texts[segment] = Array(texts[segment][..<offset]) + collected
                changed.insert(segment)
            }
            offset += collected.count
        }
        for index in changed.union(tagStarts) {
            edits.replace(parsed.tokens[segments[index].token].range, with: normalizedTags(String(decoding: texts[index], as: UTF8.self)))
            if let holder = segments[index].holder {
                let tag = parsed.text(parsed.tokens[holder].range)
                if !tag.contains("xml:space") {
                    edits.replace(parsed.tokens[holder].range, with: String(tag.dropLast()) + " xml:space=\"preserve\">")
                }
            }
        }
    }

    private static func byte(at position: (Int, Int), in texts: [[UInt8]]) -> UInt8? {
        position.0 < texts.count && position.1 < texts[position.0].count ? texts[position.0][position.1] : nil
    }

    private static func byte(after position: (Int, Int), in texts: [[UInt8]]) -> (value: UInt8, position: (Int, Int))? {
        var (segment, offset) = (position.0, position.1 + 1)
        while segment < texts.count {
            if offset < texts[segment].count { return (texts[segment][offset], (segment, offset)) }
            segment += 1
            offset = 0
        }
        return nil
    }

    /// Inside tags, the word processor's typography is undone: curly quotes become straight
    /// ones and XML entities the characters they stand for (the template reads them so).
    static func normalizedTags(_ text: String) -> String {
        guard text.contains("{{") || text.contains("{%") else { return text }
        var output = ""
        var rest = Substring(text)
        while let open = [rest.range(of: "{{"), rest.range(of: "{%")].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }),
              let close = rest[open.upperBound...].range(of: rest[open] == "{{" ? "}}" : "%}") {
            output += rest[..<open.lowerBound]
            // The lexer reads the tag and nothing of it reaches the document: it may hold raw characters.
            output += XMLText.unescape(String(rest[open.lowerBound..<close.upperBound]))
                .replacingAll("\u{201C}", "\"").replacingAll("\u{201D}", "\"").replacingAll("\u{2018}", "'").replacingAll("\u{2019}", "'")
                .replacingAll("\u{00A0}", " ")
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    // MARK: control tags

    /// Rows and paragraphs that hold only `{% %}` tags become those tags; a row holding its
    /// own `{% for %}` and `{% endfor %}` is wrapped by them.
    static func hoistControlTags(_ xml: String, format: DocumentFormat) -> String {
        guard xml.contains("{%") else { return xml }
        var result = xml
        for elements in [format.rows, format.paragraphs] {
            let parsed = XMLTokens(result)
            let ends = parsed.matchingEnds()
            var edits = ByteEdits()
            var skipUntil = -1
            for (index, token) in parsed.tokens.enumerated() where index > skipUntil {
                guard case .start(let name) = token.kind, elements.contains(name), let end = ends[index] else { continue }
                let range = token.range.lowerBound..<parsed.tokens[end].range.upperBound
                let text = (index...end).filter { parsed.tokens[$0].kind == .text && isText(parsed, $0, format: format, from: index) }
                    .map { parsed.text(parsed.tokens[$0].range) }.joined()
                let tags = controlTags(in: text)
                guard !tags.isEmpty else { continue }
                // A paragraph with a picture, a field, a break or a note besides its tags keeps them: only its tags' text goes.
                guard !((index...end).contains { holdsContent(parsed.tokens[$0].kind) }) else { continue }
                let rest = removing(tags, from: text).trimmingCharacters(in: .whitespaces)
                if rest.isEmpty {
                    edits.replace(range, with: tags.joined())
                    skipUntil = end
                } else if format.rows.contains(name), tags.count == 2, tags[0].contains(" for "), tags[1].contains("endfor") {
                    // The row is the loop's body: the tags leave it and wrap it.
                    var inner = ByteEdits()
                    for i in index...end where parsed.tokens[i].kind == .text {
                        let piece = parsed.text(parsed.tokens[i].range)
                        let stripped = removing(tags, from: piece)
                        if stripped != piece { inner.replace(parsed.tokens[i].range, with: stripped) }
                    }
                    let rowBytes = Array(parsed.bytes[range])
                    let shifted = inner.shifted(by: -range.lowerBound)
                    edits.replace(range, with: tags[0] + shifted.applied(to: rowBytes) + tags[1])
                    skipUntil = end
                }
            }
            if !edits.isEmpty { result = edits.applied(to: parsed.bytes) }
        }
        return result
    }

    /// Elements that are content of their own: never thrown away with a tag's paragraph.
    private static func holdsContent(_ kind: XMLTokens.Kind) -> Bool {
        let name: String
        switch kind {
        case .start(let n), .empty(let n): name = n
        default: return false
        }
        return ["w:drawing", "w:pict", "w:object", "w:fldChar", "w:fldSimple", "w:br", "w:sym", "w:footnoteReference", "w:endnoteReference",
                "w:txbxContent", "draw:frame", "draw:image", "text:note", "text:line-break", "text:bookmark-ref"].contains(name)
    }

    private static func isText(_ parsed: XMLTokens, _ index: Int, format: DocumentFormat, from start: Int) -> Bool {
        guard let element = format.textElement else { return true }
        var i = index - 1
        while i >= start {
            switch parsed.tokens[i].kind {
            case .start(let name): return name == element
            case .end, .empty: return false
            default: i -= 1
            }
        }
        return false
    }

    static func controlTags(in text: String) -> [String] {
        var tags: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{%"), let close = rest[open.upperBound...].range(of: "%}") {
            tags.append(String(rest[open.lowerBound..<close.upperBound]))
            rest = rest[close.upperBound...]
        }
        return tags
    }

    private static func removing(_ tags: [String], from text: String) -> String {
        tags.reduce(text) { $0.replacingAll($1, "") }
    }
}

extension ByteEdits {
    /// The same edits with their offsets moved (to apply them to a slice).
    func shifted(by delta: Int) -> ByteEdits {
        var copy = ByteEdits()
        for edit in all { copy.replace((edit.range.lowerBound + delta)..<(edit.range.upperBound + delta), with: edit.replacement) }
        return copy
    }
}
