import Foundation
import Testing
import TestSupport

/// Replies read over IMAP (Dovecot) like bounces: a message whose In-Reply-To or
/// References names one of the campaign's messages counts as a reply to it; an RFC 3834
/// auto-reply counts as an auto-reply, never as a person's reply.
@Suite("Replies")
struct ReplyTests {
    /// A reply written with Python's `email` package, as a mail program would write one.
    static func reply(from: String, answering id: String, messageID: String, automatic: Bool = false, body: String = "Thanks, I'll order two.") throws -> String {
        let script = """
            import sys
            from email.message import EmailMessage
            m = EmailMessage()
            m["From"] = sys.argv[1]; m["To"] = "News <news@example.com>"; m["Subject"] = "Re: Hello"
            m["Message-ID"] = sys.argv[3]; m["In-Reply-To"] = "<" + sys.argv[2] + ">"; m["References"] = "<" + sys.argv[2] + ">"
            if sys.argv[4] == "1":
                m["Auto-Submitted"] = "auto-replied"; m.replace_header("Subject", "Automatic reply: Hello")
            m.set_content(sys.argv[5])
            sys.stdout.write(m.as_string())
            """
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, from, id, messageID, automatic ? "1" : "0", body])
        guard result.status == 0 else { throw TestSupportError(result.stderr) }
        return result.stdout
    }

    @Test func aReplyMarksItsMessageRepliedAndAnAutoReplyDoesNot() throws {
        let campaign = try BounceTests.SentCampaign()
        let imap = try IMAPTestServer()
        let ids = campaign.messageIDs
        try imap.deliver(try Self.reply(from: "a@example.com", answering: try #require(ids["a@example.com"]), messageID: "<r1@example.com>"), name: "1.eml")
        try imap.deliver(try Self.reply(from: "b@example.com", answering: try #require(ids["b@example.com"]), messageID: "<r2@example.com>",
                                        automatic: true, body: "I am out of the office until Monday."), name: "2.eml")
        try imap.deliver(try Self.reply(from: "z@example.com", answering: "not-ours@example.com", messageID: "<r3@example.com>"), name: "3.eml")

        let fetch = ["bounces", "fetch", "--imap", imap.url, "--user", imap.user, "--password-env", "IMAP_PASSWORD", "--db", campaign.db, "--json"]
        let first = try Command.broadside(fetch, environment: ["IMAP_PASSWORD": imap.password])
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect(summary["replies"] as? Int == 1)
        #expect(summary["autoReplies"] as? Int == 1)
        #expect((summary["skipped"] as? [Any])?.count == 1, "a reply to no message of ours is not counted")
        #expect(try sqlite(campaign.db, "SELECT m.recipient, r.automatic FROM replies r JOIN messages m ON m.id = r.message_id ORDER BY m.recipient")
                == ["a@example.com|0", "b@example.com|1"])
        // A bounce is still a bounce, and states do not change for a reply.
        #expect(try sqlite(campaign.db, "SELECT state FROM messages WHERE recipient = 'a@example.com'") == ["accepted"])

        // The same reply delivered again (a copy, a re-fetch) counts once.
        try imap.deliver(try Self.reply(from: "a@example.com", answering: try #require(ids["a@example.com"]), messageID: "<r1@example.com>"), name: "4.eml")
        let second = try Command.broadside(fetch, environment: ["IMAP_PASSWORD": imap.password])
        #expect(second.stdout.contains("\"replies\":0"), "\(second.stdout)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM replies") == ["2"])
    }

    /// Replies that arrive in a mailbox of their own (the profile's reply_mailbox) are read
    /// by the same fetch as the bounce mailbox, with its sign-in.
    @Test func theProfilesReplyMailboxIsReadToo() throws {
        let campaign = try BounceTests.SentCampaign()
        let bounces = try IMAPTestServer()
        let replies = try IMAPTestServer()
        try replies.deliver(try Self.reply(from: "c@example.com", answering: try #require(campaign.messageIDs["c@example.com"]), messageID: "<r9@example.com>"),
                            name: "1.eml")
        let config = try campaign.dir.write("broadside.yaml", """
            profiles:
              news:
                smtp: smtp://127.0.0.1:25
                bounce_mailbox: \(bounces.url)
                reply_mailbox: \(replies.url)
                bounce_user: \(bounces.user)
                bounce_password_env: IMAP_PASSWORD
            """)
        let fetched = try Command.broadside(["bounces", "fetch", "--profile", "news", "--config", config, "--db", campaign.db, "--json"],
                                            environment: ["IMAP_PASSWORD": bounces.password])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("\"replies\":1"), "\(fetched.stdout)")
        #expect(try sqlite(campaign.db, "SELECT m.recipient FROM replies r JOIN messages m ON m.id = r.message_id") == ["c@example.com"])
    }
}
