import Foundation
import Templates

/// A flat reading of an XML part: tags and the text between them, with their places in the
/// source. Enough to find runs, paragraphs, rows and fields and to rewrite them, without
/// building a tree (a document part is read once per campaign).
struct XMLTokens {
    enum Kind: Equatable {
        case start(String)
        case end(String)
        case empty(String)
        case text
        case other      // declarations, comments, processing instructions
    }

    struct Token {
        var kind: Kind
        /// Where the token lies in the part's UTF-8 bytes.
        var range: Range<Int>
    }

    let bytes: [UInt8]
    let tokens: [Token]

    init(_ xml: String) {
        bytes = Array(xml.utf8)
        var tokens: [Token] = []
        var index = 0
        let count = bytes.count
        while index < count {
            if bytes[index] != 0x3C {
                let start = index
                while index < count, bytes[index] != 0x3C { index += 1 }
                tokens.append(Token(kind: .text, range: start..<index))
                continue
            }
            let start = index
            if index + 3 < count, bytes[index + 1] == 0x21, bytes[index + 2] == 0x2D, bytes[index + 3] == 0x2D {
                // <!-- … -->
                index += 4
                while index + 2 < count, !(bytes[index] == 0x2D && bytes[index + 1] == 0x2D && bytes[index + 2] == 0x3E) { index += 1 }
                index = min(count, index + 3)
                tokens.append(Token(kind: .other, range: start..<index))
                continue
            }
            var quote: UInt8 = 0
            index += 1
            while index < count {
                let b = bytes[index]
                if quote != 0 { if b == quote { quote = 0 } } else if b == 0x22 || b == 0x27 { quote = b } else if b == 0x3E { break }
                index += 1
            }
            index = min(count, index + 1)
            let tag = bytes[start..<index]
            let second = tag.count > 1 ? tag[start + 1] : 0
            if second == 0x3F || second == 0x21 {
                tokens.append(Token(kind: .other, range: start..<index))
                continue
            }
            let isEnd = second == 0x2F
            let isEmpty = tag.count > 2 && tag[index - 2] == 0x2F
            var nameEnd = start + (isEnd ? 2 : 1)
            while nameEnd < index, ![0x20, 0x09, 0x0A, 0x0D, 0x2F, 0x3E].contains(bytes[nameEnd]) { nameEnd += 1 }
            let name = String(decoding: bytes[(start + (isEnd ? 2 : 1))..<nameEnd], as: UTF8.self)
            tokens.append(Token(kind: isEnd ? .end(name) : isEmpty ? .empty(name) : .start(name), range: start..<index))
        }
        self.tokens = tokens
    }

    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// The value of `name="…"` in a start or empty tag.
    func attribute(_ name: String, of token: Token) -> String? {
        let tag = text(token.range)
        guard let found = tag.range(of: " \(name)=") ?? tag.range(of: "\t\(name)=") ?? tag.range(of: "\n\(name)=") else { return nil }
        let rest = tag[found.upperBound...]
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        let value = rest.dropFirst().prefix { $0 != quote }
        return XMLText.unescape(String(value))
    }

    /// For each start token, the index of its matching end token (itself for empty tags).
    func matchingEnds() -> [Int: Int] {
        var ends: [Int: Int] = [:]
        var stack: [(String, Int)] = []
        for (index, token) in tokens.enumerated() {
            switch token.kind {
            case .start(let name): stack.append((name, index))
            case .end(let name):
                while let last = stack.popLast() {
                    if last.0 == name { ends[last.1] = index; break }
                }
            case .empty: ends[index] = index
            default: break
            }
        }
        return ends
    }
}

/// XML character data.
enum XMLText {
    /// (HTML's escaping is XML's: the five characters become entities.)
    static func escape(_ text: String) -> String {
        HTML.escape(text)
    }

    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingAll("&lt;", "<").replacingAll("&gt;", ">").replacingAll("&quot;", "\"").replacingAll("&apos;", "'")
            .replacingAll("&#39;", "'").replacingAll("&amp;", "&")
    }
}

/// Edits to a text by UTF-8 offsets, applied together.
struct ByteEdits {
    private var edits: [(range: Range<Int>, replacement: String)] = []

    mutating func replace(_ range: Range<Int>, with replacement: String) {
        edits.append((range, replacement))
    }

    var isEmpty: Bool { edits.isEmpty }
    var all: [(range: Range<Int>, replacement: String)] { edits }

    /// Overlapping edits keep the first one made.
    func applied(to bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var at = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) where edit.range.lowerBound >= at {
            output += bytes[at..<edit.range.lowerBound]
            output += Array(edit.replacement.utf8)
            at = edit.range.upperBound
        }
        output += bytes[at...]
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
