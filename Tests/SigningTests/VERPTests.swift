import Testing
@testable import Signing

@Suite("VERP return paths")
struct VERPTests {
    let verp = VERPAddress(domain: "Bounces.Example.com", secret: "s3cret")

    @Test func namesCampaignAndMessageAndDecodesBack() throws {
        let address = verp.address(campaign: 7, message: 123_456)
        #expect(address.hasPrefix("bounce+7.123456."))
        #expect(address.hasSuffix("@bounces.example.com"))
        let decoded = try #require(verp.decode(address))
        #expect(decoded.campaign == 7 && decoded.message == 123_456)
        #expect(verp.decode(address.uppercased())?.message == 123_456, "case is not significant in a mailbox's domain or, here, its MAC")
    }

    @Test func refusesForgedOrForeignAddresses() {
        let address = verp.address(campaign: 7, message: 1)
        #expect(verp.decode(address.replacing("bounce+7.1.", with: "bounce+7.2.")) == nil)
        #expect(VERPAddress(domain: "bounces.example.com", secret: "other").decode(address) == nil)
        #expect(verp.decode("bounce+7.1.000000000000@bounces.example.com") == nil)
        #expect(verp.decode("someone@example.com") == nil)
        #expect(verp.decode(address.replacing("bounces.example.com", with: "evil.example")) == nil)
    }

    @Test func isStableAcrossRetries() {
        #expect(verp.address(campaign: 3, message: 9) == verp.address(campaign: 3, message: 9))
    }
}
