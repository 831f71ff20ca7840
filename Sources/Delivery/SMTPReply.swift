/// A server's reply to one SMTP step: `550 5.1.1 <x@y>: user unknown`.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    /// The three-digit reply code.
    public var code: Int
    /// The RFC 3463 enhanced status code (`5.1.1`), when the server sent one.
    public var enhancedStatus: String?
    /// The whole reply as the server sent it, lines joined with a space.
    public var text: String

    public init(code: Int, enhancedStatus: String? = nil, text: String) {
        self.code = code
        self.enhancedStatus = enhancedStatus
        self.text = text
    }

    /// Parses reply lines (`250-…` continuation lines, then `250 …`).
    public init?(lines: [String]) {
        guard let last = lines.last, let code = Self.code(of: last) else { return nil }
        self.code = code
        let joined = lines.map { $0.trimmingTrailingNewline() }.joined(separator: " ")
        self.text = joined
        let rest = last.utf8.dropFirst(4)
        self.enhancedStatus = Self.enhancedStatus(in: Substring(rest), classOf: code)
    }

    public var description: String { text }

    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransient: Bool { (400..<500).contains(code) }
    public var isPermanent: Bool { (500..<600).contains(code) }
    /// The server wants a sign-in before it takes mail (RFC 4954's `530 5.7.0`, Exchange's
    /// `5.7.57`), or refused the one given (`535`, an expired or revoked token): no message
    /// is at fault, the run's settings are.
    public var asksForSignIn: Bool {
        code == 530 || code == 535 || enhancedStatus == "5.7.57" || (enhancedStatus == "5.7.0" && text.lowercased().contains("auth"))
    }

    static func code(of line: String) -> Int? {
        let bytes = Array(line.utf8.prefix(4))
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if bytes.count == 4, bytes[3] != UInt8(ascii: " "), bytes[3] != UInt8(ascii: "-"), bytes[3] != 0x0D, bytes[3] != 0x0A { return nil }
        return Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
    }

    /// `X.Y.Z` at the start of the text, whose class agrees with the reply code.
    static func enhancedStatus(in text: Substring, classOf code: Int) -> String? {
        let word = text.prefix(while: { $0 != " " && $0 != "\r" && $0 != "\n" })
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let first = Int(parts[0]), [2, 4, 5].contains(first), first == code / 100,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) else { return nil }
        return String(word)
    }
}

extension String {
    func trimmingTrailingNewline() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\r" || last == "\n" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}
