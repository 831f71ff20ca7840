/// A recipient's mailbox as SMTP will accept it (RFC 5321): a dot-atom local part
/// and a domain of valid labels.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The local part as written.
    public let localPart: String
    /// The domain as written, lowercased (kept for display: may be Unicode).
    public let domain: String
    /// The domain as sent over SMTP: IDN labels as A-labels (`xn--…`).
    public let asciiDomain: String

    /// `local@domain` for display.
    public var description: String { "\(localPart)@\(domain)" }
    /// `local@ascii-domain`, what goes into RCPT TO and the To header.
    public var smtpForm: String { "\(localPart)@\(asciiDomain)" }
    /// The key two addresses are the same mailbox by: the big providers compare
    /// local parts case-insensitively, and domains are case-insensitive by definition.
    public var normalized: String { "\(localPart.lowercased())@\(asciiDomain)" }
    /// A non-ASCII local part can only be delivered by a server that offers SMTPUTF8.
    public var needsSMTPUTF8: Bool { !localPart.utf8.allSatisfy { $0 < 0x80 } }

    /// Parses `text` (surrounding white space is ignored).
    public init(parsing text: String) throws(AddressError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw AddressError.empty }
        // By bytes: "@" is ASCII, so its index is a character boundary; walking Characters costs more.
        guard let at = trimmed.utf8.lastIndex(of: UInt8(ascii: "@")) else { throw AddressError.missingAt(trimmed) }
        let local = String(trimmed[..<at])
        let domain = String(trimmed[trimmed.index(after: at)...])
        try Self.validateLocalPart(local, in: trimmed)
        let ascii = try Self.asciiDomain(domain, in: trimmed)
        self.localPart = local
        self.domain = domain.lowercased()
        self.asciiDomain = ascii
    }

    private static func validateLocalPart(_ local: String, in address: String) throws(AddressError) {
        guard !local.isEmpty else { throw AddressError.emptyLocalPart(address) }
        guard local.utf8.count <= 64 else { throw AddressError.localPartTooLong(address) }
        // One pass over the bytes: dots (not first, not last, never two in a row) and atext;
        // bytes of 0x80 and above are a non-ASCII local part (SMTPUTF8).
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in local.utf8 {
            if byte == UInt8(ascii: ".") {
                guard previous != UInt8(ascii: ".") else { throw AddressError.badDots(address) }
            } else if byte < 0x80 && !isAtext(byte) {
                throw AddressError.invalidCharacter(address, Character(Unicode.Scalar(byte)))
            }
            previous = byte
        }
        guard previous != UInt8(ascii: ".") else { throw AddressError.badDots(address) }
    }

    private static func asciiDomain(_ domain: String, in address: String) throws(AddressError) -> String {
        guard !domain.isEmpty else { throw AddressError.emptyDomain(address) }
        if let ascii = plainASCIIDomain(domain) { return ascii }
        let labels = domain.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw AddressError.domainWithoutDot(address) }
        var asciiLabels: [String] = []
        for label in labels {
            guard !label.isEmpty else { throw AddressError.badDots(address) }
            let ascii: String
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                ascii = String(label)
            } else {
                guard let encoded = Punycode.encode(String(label)) else {
                    throw AddressError.invalidDomain(address)
                }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63,
                  ascii.utf8.allSatisfy({ isLetterDigitHyphen($0) }),
                  ascii.utf8.first != UInt8(ascii: "-"), ascii.utf8.last != UInt8(ascii: "-")
            else { throw AddressError.invalidDomain(address) }
            asciiLabels.append(ascii)
        }
        let joined = asciiLabels.joined(separator: ".")
        guard joined.utf8.count <= 253 else { throw AddressError.invalidDomain(address) }
        if let tld = asciiLabels.last, tld.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            throw AddressError.invalidDomain(address)
        }
        return joined
    }

    /// The common case in one pass over the bytes: an ASCII domain of letters, digits,
    /// hyphens and dots, returned lowercased; nil sends it down the full path (which
    /// also names what is wrong).
    private static func plainASCIIDomain(_ domain: String) -> String? {
        var domain = domain
        return domain.withUTF8 { bytes in
            guard isPlainASCIIDomain(bytes) else { return nil }
            return String(decoding: bytes.map(lowercasedASCII), as: UTF8.self)
        }
    }

    /// Whether `bytes` are a domain `plainASCIIDomain` accepts: labels of 1 to 63 letters
    /// (either case), digits and inner hyphens, at least two, at most 253 bytes, the last
    /// not all digits.
    static func isPlainASCIIDomain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var labelLength = 0
        var labels = 0
        var previous: UInt8 = UInt8(ascii: ".")
        var tldAllDigits = true
        for written in bytes {
            let byte = lowercasedASCII(written)
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labels += 1
                labelLength = 0
                tldAllDigits = true
            } else {
                guard isLetterDigitHyphen(byte), !(labelLength == 0 && byte == UInt8(ascii: "-")) else { return false }
                labelLength += 1
                if labelLength > 63 { return false }
                if byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") { tldAllDigits = false }
            }
            previous = byte
        }
        return labelLength > 0 && previous != UInt8(ascii: "-") && labels >= 1 && bytes.count <= 253 && !tldAllDigits
    }

    /// An all-ASCII address with nothing to trim or encode (what most of a list is):
    /// where its "@" is, and whether its local part has capitals, read from the bytes
    /// without making strings. Nil for anything else, which `init(parsing:)` then reads
    /// (and explains). What it accepts, `init(parsing:)` accepts as well, with
    /// `normalized` the bytes lowercased, `smtpForm` and `description` the local part as
    /// written and the domain lowercased.
    public static func plainASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> (at: Int, localPartHasCapitals: Bool)? {
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at <= 64 else { return nil }
        var previous = UInt8(ascii: ".")
        var capitals = false
        for byte in bytes[..<at] {
            if byte == UInt8(ascii: ".") {
                guard previous != UInt8(ascii: ".") else { return nil }
            } else {
                guard byte < 0x80, isAtext(byte) else { return nil }
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { capitals = true }
            }
            previous = byte
        }
        guard previous != UInt8(ascii: "."), isPlainASCIIDomain(UnsafeBufferPointer(rebasing: bytes[(at + 1)...])) else { return nil }
        return (at, capitals)
    }

    static func lowercasedASCII(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// RFC 5322 atext: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    static func isAtext(_ byte: UInt8) -> Bool {
        byte < 0x80 && atext[Int(byte)]
    }

    private static let atext: [Bool] = (0..<128).map { code in
        let byte = UInt8(code)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    static func isLetterDigitHyphen(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 { return self }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\u{A0}" || $0 == "\u{FEFF}" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
