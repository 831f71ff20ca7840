import Testing
import Messages

/// A campaign's Message-IDs, as the library defines them and the store writes them.
@Suite("Message-IDs")
struct MessageIDsTests {
    @Test func aRecipientsIdIsTheTokenItsContactNumberAndTheSendersDomain() {
        let ids = MessageIDs(token: "k3x9q2m7a1b8c4d6", domain: "example.com")
        #expect(ids.id(contact: 42) == "k3x9q2m7a1b8c4d6.42@example.com")
        #expect(ids.prefix + "42" + ids.suffix == ids.id(contact: 42), "what the store concatenates is the same id")
    }

    @Test func eachCampaignDrawsItsOwnToken() {
        let first = MessageIDs.random(domain: "example.com"), second = MessageIDs.random(domain: "example.com")
        #expect(first.token != second.token)
        #expect(first.token.count == 16 && first.token.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) })
    }
}
