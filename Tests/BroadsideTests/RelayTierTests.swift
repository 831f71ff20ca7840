import Foundation
import Testing
import TestSupport

/// Broadside in front of a relay tier: a real Postfix on loopback as the local relay with
/// its own queue, relaying to the final server (the scripted SMTP server).
@Suite("A relay tier")
struct RelayTierTests {
    @Test func aPostfixRelayTakesTheCampaignAndDeliversEveryMessageOnce() throws {
        let destination = try SMTPTestServer()
        let relay = try PostfixRelay(relayTo: destination.port)
        let fixture = try TestCampaign(count: 200)
        let sent = try fixture.send(["--smtp", relay.url, "--connections", "4"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state") == ["accepted|200"])
        // Accepted means queued at the relay: it relays them on its own.
        #expect(try relay.drain(within: 60), "the relay's queue emptied")
        let received = try destination.received()
        #expect(received.count == 200)
        #expect(Set(received.map { $0.rcpt_tos[0] }).count == 200, "each recipient once")
        #expect(received.allSatisfy { $0.data.contains("by relay.broadside.test (Postfix)") }, "through Postfix")
        // What the relay accepted carries the reply Broadside recorded: Postfix's queue id.
        let replies = try sqlite(fixture.db, "SELECT reply FROM messages LIMIT 3")
        #expect(replies.allSatisfy { $0.contains("queued as") }, "\(replies)")
    }
}
