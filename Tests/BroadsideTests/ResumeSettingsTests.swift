import Foundation
import Testing
import TestSupport

/// `resume --profile P` (a relay's address changed, say) keeps what the campaign was
/// started with and the profile does not say: its unsubscribe link and its VERP return
/// paths. Dropping them would send the rest of the campaign without a working unsubscribe.
@Suite("Resume with a profile")
struct ResumeSettingsTests {
    @Test func resumeWithAProfileKeepsTheCampaignsOwnSettings() throws {
        let fixture = try TestCampaign(count: 4)
        let server = try SMTPTestServer()
        let config = try fixture.dir.write("broadside.yaml", """
            profiles:
              relay:
                smtp: \(server.url)
                connections: 1
            """)
        let environment = ["BROADSIDE_SECRET": "test-secret-0123456789"]
        let first = try fixture.send(["--config", config, "--profile", "relay", "--unsubscribe-url", "https://news.example.com/u/",
                                      "--verp-domain", "bounces.example.com", "--limit", "2"], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try Command.broadside(["resume", "c", "--config", config, "--profile", "relay", "--db", fixture.db], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let received = try server.received()
        #expect(received.count == 4)
        for message in received {
            #expect(message.data.contains("List-Unsubscribe: <https://news.example.com/u/"), "\(message.rcpt_tos): no unsubscribe link")
            #expect(message.mail_from.hasPrefix("bounce+") && message.mail_from.hasSuffix("@bounces.example.com"), "\(message.mail_from)")
        }
    }
}

/// A `resume` refused because the campaign is being sent changes nothing, not even the
/// campaign's stored settings.
@Suite("A refused resume")
struct RefusedResumeTests {
    @Test func aResumeOfARunningCampaignIsRefusedAndChangesNothing() throws {
        let fixture = try TestCampaign(count: 40)
        let server = try SMTPTestServer()
        let running = try Command.startBroadside(fixture.sendArguments + ["--smtp", server.url, "--rate", "10/s", "--connections", "1"]).process
        defer { running.terminate(); running.waitUntilExit() }
        let deadline = Date().addingTimeInterval(20)
        while try server.received().count < 2, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let before = try sqlite(fixture.db, "SELECT settings FROM campaigns")
        let refused = try Command.broadside(["resume", "c", "--connections", "3", "--rate", "1000/s", "--db", fixture.db])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("another"), "\(refused.stderr)")
        #expect(try sqlite(fixture.db, "SELECT settings FROM campaigns") == before, "the refused resume stored its settings")
    }
}
