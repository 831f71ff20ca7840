import Testing
@testable import Addresses

@Suite("Email addresses")
struct EmailAddressTests {
    @Test(arguments: ["ada@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie", "x@a-b.example", "  ada@example.com  ", "user_name@xn--bcher-kva.example"])
    func acceptsMailboxesSMTPAccepts(_ text: String) throws {
        _ = try EmailAddress(parsing: text)
    }

    @Test(arguments: ["", "ada", "@example.com", "ada@", "ada@localhost", ".ada@example.com", "ada.@example.com", "a..b@example.com",
                      "ada@exa mple.com", "ada@-example.com", "ada@example..com", "a\"b@example.com", "ada@example.123", "ad(a)@example.com",
                      "ada@example.com\r\nBcc: x@y.com"])
    func rejectsWhatSMTPWouldNot(_ text: String) {
        #expect(throws: AddressError.self) { _ = try EmailAddress(parsing: text) }
    }

    @Test func normalisesDomainAndLocalPartCase() throws {
        let a = try EmailAddress(parsing: "Ada.Lovelace@Example.COM")
        #expect(a.normalized == "ada.lovelace@example.com")
        #expect(a.smtpForm == "Ada.Lovelace@example.com")
    }

    @Test func sendsInternationalDomainsAsALabels() throws {
        let a = try EmailAddress(parsing: "info@Bücher.example")
        #expect(a.domain == "bücher.example")
        #expect(a.asciiDomain == "xn--bcher-kva.example")
        #expect(try EmailAddress(parsing: "x@例え.テスト").asciiDomain == "xn--r8jz45g.xn--zckzah")
        #expect(try EmailAddress(parsing: "x@中国.cn").asciiDomain == "xn--fiqs8s.cn")
    }

    @Test func marksNonASCIILocalPartsAsNeedingSMTPUTF8() throws {
        #expect(try EmailAddress(parsing: "用户@example.com").needsSMTPUTF8)
        #expect(try !EmailAddress(parsing: "user@例え.テスト").needsSMTPUTF8)
    }

    @Test func parsesMailboxesWithDisplayNames() throws {
        let m = try Mailbox(parsing: "\"Lovelace, Ada\" <ada@example.com>")
        #expect(m.displayName == "Lovelace, Ada")
        #expect(m.address.smtpForm == "ada@example.com")
        #expect(try Mailbox(parsing: "王磊 <wang@example.cn>").displayName == "王磊")
        #expect(try Mailbox(parsing: "ada@example.com").displayName == nil)
        #expect(try Mailbox(parsing: " <ada@example.com>").displayName == nil)
    }
}

@Suite("Loopback hosts")
struct LoopbackHostTests {
    @Test(arguments: ["127.0.0.1", "127.5.6.7", "localhost", "LOCALHOST", "::1", "[::1]"])
    func loopbackAddressesAreThisMachine(_ host: String) {
        #expect(LoopbackHost.isLoopback(host))
    }

    /// A password goes in clear only to this machine: a name that merely starts with 127. may resolve anywhere.
    @Test(arguments: ["127.relay.test", "127.0.0.1.evil.test", "relay.example.com", "10.0.0.1", "128.0.0.1", "::2", "localhost.evil.test", ""])
    func namesAndOtherAddressesAreNot(_ host: String) {
        #expect(!LoopbackHost.isLoopback(host))
    }
}

/// The import checks most addresses from their bytes (`EmailAddress.plainASCII`); what it
/// accepts must be exactly what the full parser accepts, with the same forms.
@Suite("Plain ASCII addresses")
struct PlainASCIIAddressTests {
    private func plain(_ text: String) -> (at: Int, localPartHasCapitals: Bool)? {
        Array(text.utf8).withUnsafeBufferPointer(EmailAddress.plainASCII)
    }

    @Test(arguments: ["ada@example.com", "Ada.Lovelace@Example.COM", "o'brien+x@a-b.example.ie", "x@xn--bcher-kva.example", "A@B.CO"])
    func readsCommonAddressesAsTheParserDoes(_ text: String) throws {
        let found = try #require(plain(text))
        let parsed = try EmailAddress(parsing: text)
        let bytes = Array(text.utf8)
        #expect(found.at == bytes.lastIndex(of: UInt8(ascii: "@")))
        #expect(found.localPartHasCapitals == (parsed.localPart != parsed.localPart.lowercased()))
        #expect(parsed.normalized == text.lowercased())
        #expect(parsed.smtpForm == parsed.localPart + "@" + text[text.index(after: text.lastIndex(of: "@")!)...].lowercased())
        #expect(parsed.description == parsed.smtpForm)
    }

    @Test(arguments: [" ada@example.com", "ada@example.com ", "ada@bücher.example", "用户@example.com", "a..b@example.com", "ada@localhost",
                      "ada@example.123", "\(String(repeating: "a", count: 65))@example.com", "a@b@example.com", "ada@-x.example"])
    func leavesTheRestToTheParser(_ text: String) {
        #expect(plain(text) == nil)
    }

    @Test func acceptsExactlyWhatTheParserAcceptsOfRandomASCII() {
        var generator = SystemRandomNumberGenerator()
        // Near-misses: mostly what addresses are made of, with what they must not hold.
        let localAlphabet = Array("aaaaZZ99._+'!-@\" (".utf8)
        let labelAlphabet = Array("aaaaZ99-_ ".utf8)
        func pick(_ alphabet: [UInt8], _ count: ClosedRange<Int>) -> [UInt8] {
            (0..<Int.random(in: count, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
        }
        var accepted = 0
        for _ in 0..<50_000 {
            let labels = (0..<Int.random(in: 1...3, using: &generator)).map { _ in pick(labelAlphabet, 0...4) }
            let domain = Array(labels.joined(separator: [UInt8(ascii: ".")]))
            let text = String(decoding: pick(localAlphabet, 0...6) + [UInt8(ascii: "@")] + domain, as: UTF8.self)
            let parsed = try? EmailAddress(parsing: text)
            guard let found = plain(text) else {
                // Left to the parser: only what it rejects, or what it trims first.
                #expect(parsed == nil || text.first!.isWhitespace || text.last!.isWhitespace, "\(text)")
                continue
            }
            accepted += 1
            guard let parsed else {
                Issue.record("plainASCII accepts \(text), the parser does not")
                continue
            }
            #expect(parsed.normalized == text.lowercased(), "\(text)")
            #expect(found.localPartHasCapitals == (parsed.localPart != parsed.localPart.lowercased()), "\(text)")
            #expect(parsed.description == parsed.smtpForm, "\(text)")
        }
        #expect(accepted > 300, "the random addresses exercised the accepting side too")
    }
}
