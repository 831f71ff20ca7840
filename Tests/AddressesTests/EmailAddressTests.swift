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
