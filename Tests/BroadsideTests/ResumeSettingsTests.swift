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
