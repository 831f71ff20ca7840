import Foundation
import Testing
import TestSupport

/// Bounces for a campaign sent through the SMTP test server, read back over real IMAP
/// (Dovecot) or from files, matched to their messages and acted on.
@Suite("Bounces")
struct BounceTests {
    /// A sent campaign over a@, b@, c@, d@example.com; returns each recipient's Message-ID.
    struct SentCampaign {
        let dir: TemporaryDirectory
        let db: String
        let messageIDs: [String: String]

        init() throws {
            dir = try TemporaryDirectory()
            db = dir.path("b.sqlite")
            let server = try SMTPTestServer()
            let list = try dir.write("l.csv", "email\na@example.com\nb@example.com\nc@example.com\nd@example.com\n")
            let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hello\n\nHello.\n")
            try Command.broadsideSucceeding(["import", list, "--list", "l", "--db", db])
            let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "spring", "--smtp", server.url, "--db", db])
            guard sent.status == 0 else { throw TestSupportError(sent.stderr) }
            messageIDs = Dictionary(uniqueKeysWithValues: try sqlite(db, "SELECT recipient, message_id FROM messages").map {
                let parts = $0.split(separator: "|").map(String.init)
                return (parts[0], parts[1])
            })
        }
    }

    static func dsn(to recipient: String, status: String, diagnostic: String, messageID: String?, action: String = "failed") -> String {
        """
        From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
        To: news@example.com
        Subject: Undelivered Mail Returned to Sender
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

        --B1
        Content-Type: text/plain

        I'm sorry to have to inform you that your message could not be delivered.

        --B1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.com

        Final-Recipient: rfc822; \(recipient)
        Action: \(action)
        Status: \(status)
        Diagnostic-Code: smtp; \(diagnostic)

        --B1
        Content-Type: text/rfc822-headers

        From: News <news@example.com>
        To: \(recipient)
        Subject: Hello
        \(messageID.map { "Message-ID: <\($0)>" } ?? "")

        --B1--

        """.replacing("\n", with: "\r\n")
    }

    static func complaint(_ recipient: String, _ messageID: String) -> String {
        """
        From: feedback@isp.example
        To: news@example.com
        Subject: Abuse report
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="F1"

        --F1
        Content-Type: text/plain

        This is an email abuse report.

        --F1
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        Version: 1
        Original-Rcpt-To: \(recipient)

        --F1
        Content-Type: text/rfc822-headers

        From: news@example.com
        To: \(recipient)
        Message-ID: <\(messageID)>

        --F1--

        """
    }

    static let autoReply = "From: d@example.com\nTo: news@example.com\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n"

    @Test func fetchedOverIMAPEachBounceActsOnItsMessageOnce() throws {
        let campaign = try SentCampaign()
        let imap = try IMAPTestServer()
        let ids = campaign.messageIDs
        try imap.deliver(Self.dsn(to: "a@example.com", status: "5.1.1", diagnostic: "550 5.1.1 <a@example.com>: User unknown", messageID: ids["a@example.com"]), name: "1.eml")
        try imap.deliver(Self.dsn(to: "b@example.com", status: "4.2.2", diagnostic: "452 4.2.2 Mailbox full", messageID: ids["b@example.com"]), name: "2.eml")
        try imap.deliver(Self.complaint("c@example.com", ids["c@example.com"] ?? ""), name: "3.eml")
        try imap.deliver(Self.autoReply, name: "4.eml")
        try imap.deliver(Self.dsn(to: "stranger@elsewhere.example", status: "5.1.1", diagnostic: "550 no such user", messageID: nil), name: "5.eml")
        try imap.deliver("this is not a mail message at all", name: "6.eml")

        let fetch = ["bounces", "fetch", "--imap", imap.url, "--user", imap.user, "--password-env", "IMAP_PASSWORD", "--db", campaign.db, "--json"]
        let first = try Command.broadside(fetch, environment: ["IMAP_PASSWORD": imap.password])
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect(summary["messages"] as? Int == 6)
        #expect(summary["matched"] as? Int == 3)
        #expect(summary["unmatched"] as? Int == 1)
        #expect(summary["ignored"] as? Int == 1)
        #expect((summary["skipped"] as? [Any])?.count == 1)

        let states = try sqlite(campaign.db, "SELECT recipient, state, coalesce(reason, '') FROM messages ORDER BY recipient")
        #expect(states == ["a@example.com|bounced|userunknown", "b@example.com|bounced|mailboxfull", "c@example.com|complained|feedback",
                           "d@example.com|accepted|"])
        // A hard bounce and a complaint suppress at once; one soft bounce does not.
        #expect(try sqlite(campaign.db, "SELECT address, source FROM suppressions ORDER BY address") == ["a@example.com|bounce", "c@example.com|complaint"])
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM bounces WHERE message_id IS NULL") == ["1"], "the unmatched bounce is kept")
        #expect(try imap.readMessages().allSatisfy { $0.hasSuffix(",S") }, "processed messages are marked \\Seen")

        let second = try Command.broadside(fetch, environment: ["IMAP_PASSWORD": imap.password])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("\"messages\":0"))
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM bounces") == ["4"])

        // The same mailbox through a profile of the configuration file: nothing new either.
        let config = try campaign.dir.write("broadside.yaml", """
            profiles:
              relay:
                smtp: smtp://127.0.0.1:25
                bounce_mailbox: \(imap.url)
                bounce_user: \(imap.user)
                bounce_password_command: cat \(try campaign.dir.write("imap-password", imap.password + "\n"))
            """)
        let viaProfile = try Command.broadside(["bounces", "fetch", "--config", config, "--profile", "relay", "--db", campaign.db, "--json"])
        #expect(viaProfile.status == 0, "\(viaProfile.stderr)")
        #expect(viaProfile.stdout.contains("\"messages\":0"))
        let viaCommand = try Command.broadside(["bounces", "fetch", "--imap", imap.url, "--user", imap.user,
                                                "--password-command", "printf %s \"$IMAP_PASSWORD\"", "--db", campaign.db, "--json"],
                                               environment: ["IMAP_PASSWORD": imap.password])
        #expect(viaCommand.status == 0, "\(viaCommand.stderr)")
        #expect(viaCommand.stdout.contains("\"messages\":0"))

        // --move-to files processed messages away instead of marking them.
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(at: imap.maildir.appendingPathComponent(".Processed/\(sub)"), withIntermediateDirectories: true)
        }
        try imap.deliver(Self.dsn(to: "d@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: ids["d@example.com"]), name: "7.eml")
        let moved = try Command.broadside(fetch + ["--move-to", "Processed"], environment: ["IMAP_PASSWORD": imap.password])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stdout.contains("\"matched\":1"))
        let processed = try FileManager.default.contentsOfDirectory(atPath: imap.maildir.appendingPathComponent(".Processed/cur").path)
            + FileManager.default.contentsOfDirectory(atPath: imap.maildir.appendingPathComponent(".Processed/new").path)
        #expect(processed.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: imap.maildir.appendingPathComponent("new").path).isEmpty)

        // On a terminal: how many of how many, the bounces so far, the rate and the time left.
        for (index, recipient) in ["x@elsewhere.example", "y@elsewhere.example"].enumerated() {
            try imap.deliver(Self.dsn(to: recipient, status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil), name: "\(8 + index).eml")
        }
        let shown = try Command.broadsideOnATerminal(Array(fetch.dropLast()), environment: ["IMAP_PASSWORD": imap.password])
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("1/2 messages  1 bounces") && shown.stdout.contains("2/2 messages  2 bounces")
                && shown.stdout.contains("messages/s  ETA 0:"), "\(shown.stdout)")

        let wrong = try Command.broadside(fetch, environment: ["IMAP_PASSWORD": "nope"])
        #expect(wrong.status == 3)
        #expect(wrong.stderr.contains("refused the IMAP sign-in"))
    }

    @Test func softBouncesSuppressAfterThreeAndSenderSideNever() throws {
        let campaign = try SentCampaign()
        let dir = campaign.dir
        let ids = campaign.messageIDs
        for n in 1...3 {
            try dir.write("soft/\(n).eml", Self.dsn(to: "b@example.com", status: "4.2.2", diagnostic: "452 4.2.2 Mailbox full \(n)", messageID: ids["b@example.com"]))
        }
        for n in 1...3 {
            try dir.write("sender/\(n).eml", Self.dsn(to: "d@example.com", status: "5.7.1", diagnostic: "550 5.7.1 Client host blocked using Spamhaus \(n)", messageID: ids["d@example.com"]))
        }
        let soft = try Command.broadside(["bounces", "import", dir.path("soft"), "--db", campaign.db, "--json"])
        #expect(soft.stdout.contains("\"suppressed\":1"), "\(soft.stdout)")
        _ = try Command.broadside(["bounces", "import", dir.path("sender"), "--db", campaign.db])
        #expect(try sqlite(campaign.db, "SELECT address FROM suppressions") == ["b@example.com"], "sender-side failures never suppress")
        // The policy is configurable: with soft_bounces: 2, two soft bounces suppress.
        let config = try dir.write("broadside.yaml", "suppression:\n  soft_bounces: 2\n  soft_window: 7d\n")
        for n in 1...2 {
            try dir.write("soft-a/\(n).eml", Self.dsn(to: "a@example.com", status: "4.2.2", diagnostic: "452 4.2.2 Mailbox full \(n)", messageID: ids["a@example.com"]))
        }
        let configured = try Command.broadside(["bounces", "import", dir.path("soft-a"), "--config", config, "--db", campaign.db, "--json"])
        #expect(configured.stdout.contains("\"suppressed\":1"), "\(configured.stdout)")
        // Importing the same files again records nothing new.
        let again = try Command.broadside(["bounces", "import", dir.path("soft"), "--db", campaign.db, "--json"])
        #expect(again.stdout.contains("\"duplicates\":3"))
    }

    @Test func readsMaildirsAndMboxFilesAndSkipsBadInputWithoutCrashing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let one = Self.dsn(to: "x@example.com", status: "5.1.1", diagnostic: "550 user unknown", messageID: nil)
        try dir.write("maildir/new/1", one)
        try dir.write("maildir/cur/2:2,S", Self.dsn(to: "y@example.com", status: "5.1.2", diagnostic: "550 host unknown", messageID: nil))
        try dir.write("bounces.mbox", "From MAILER-DAEMON Thu Apr 29 23:34:45 2026\n" + one.replacing("\r\n", with: "\n") + "\nFrom MAILER-DAEMON Thu Apr 29 23:34:46 2026\n" + Self.autoReply)
        try dir.write("truncated.eml", String(one.prefix(300)))
        try dir.write("empty.eml", "")
        try dir.write("no-recipient.eml", "From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\n\nSomething went wrong.\n")
        var huge = "From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\nContent-Type: text/plain\n\n"
        huge += String(repeating: "garbage line without meaning\n", count: 900_000)
        try dir.write("huge.eml", huge)
        let result = try Command.broadside(["bounces", "import", dir.path("maildir"), dir.path("bounces.mbox"), dir.path("truncated.eml"),
                                            dir.path("empty.eml"), dir.path("no-recipient.eml"), dir.path("huge.eml"), "--db", db, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["messages"] as? Int == 8)
        #expect(summary["ignored"] as? Int == 1)
        #expect((summary["skipped"] as? [[String: Any]])?.count ?? 0 >= 2)
        #expect(try sqlite(db, "SELECT DISTINCT recipient FROM bounces ORDER BY recipient").prefix(2) == ["x@example.com", "y@example.com"])
    }

    @Test func parseReportsEveryRecipientAsJSON() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("bounce.eml", Self.dsn(to: "gone@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown",
                                                          messageID: "abc.1@example.com"))
        let result = try Command.broadside(["bounces", "parse", file, "--json"])
        #expect(result.status == 0)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let first = try #require((parsed["results"] as? [[String: Any]])?.first)
        for key in ["file", "recipient", "action", "status", "reply_code", "reason", "hard", "message_id", "campaign", "diagnostic"] {
            #expect(first.keys.contains(key), "\(key)")
        }
        #expect(first["recipient"] as? String == "gone@example.com")
        #expect(first["hard"] as? Bool == true)
    }

    /// An mbox of any size is read to its end: 6,000 DSNs in about 28 MB, every one recorded.
    /// On a terminal, importing a mailbox shows messages, bounces, rate and the time left;
    /// with `--json` nothing. A path that does not exist is refused before any message of
    /// the others is recorded.
    @Test func aBounceImportShowsItsProgressAndRefusesAMissingPathFirst() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        var mbox = ""
        for i in 1...1_500 {
            mbox += "From MAILER-DAEMON Thu Apr 29 23:34:45 2026\n"
            mbox += Self.dsn(to: "r\(i)@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil).replacing("\r\n", with: "\n") + "\n"
        }
        let file = try dir.write("bounces.mbox", mbox)

        let refused = try Command.broadside(["bounces", "import", file, dir.path("no-such.mbox"), "--db", db])
        #expect(refused.status == 2 && refused.stderr.contains("no-such.mbox: no such file"), "\(refused.stderr)")
        #expect(try sqlite(db, "SELECT count(*) FROM bounces") == ["0"], "nothing recorded from the file before it")

        let shown = try Command.broadsideOnATerminal(["bounces", "import", file, "--db", db])
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("500 messages  500 bounces") && shown.stdout.contains("messages/s  ETA 0:"), "\(shown.stdout)")
        #expect(shown.stdout.contains("1500 messages: 1500 bounces"))
        let json = try Command.broadsideOnATerminal(["bounces", "import", file, "--db", db, "--json"])
        #expect(json.status == 0 && !json.stdout.contains("ETA"), "\(json.stdout)")
    }

    @Test func aLargeMboxIsReadToItsEnd() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let count = 6_000
        var mbox = Data()
        let padding = "X-Padding: " + String(repeating: "p", count: 60) + "\n"
        for i in 1...count {
            mbox.append(Data("From MAILER-DAEMON Thu Apr 29 23:34:45 2026\n".utf8))
            var message = Self.dsn(to: "r\(i)@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil)
                .replacing("\r\n", with: "\n")
            message = message.replacing("Subject: Undelivered Mail Returned to Sender\n",
                                        with: "Subject: Undelivered Mail Returned to Sender\n" + String(repeating: padding, count: 55))
            mbox.append(Data((message + "\n").utf8))
        }
        #expect(mbox.count > 25 << 20, "larger than the old 20 MiB limit: \(mbox.count)")
        let file = dir.path("big.mbox")
        try mbox.write(to: URL(fileURLWithPath: file))
        let result = try Command.broadside(["bounces", "import", file, "--db", db, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["messages"] as? Int == count)
        #expect(summary["bounces"] as? Int == count)
        #expect(try sqlite(db, "SELECT count(DISTINCT recipient) FROM bounces") == ["\(count)"])
        #expect(try sqlite(db, "SELECT recipient FROM bounces ORDER BY id DESC LIMIT 1") == ["r\(count)@example.com"])
    }
}

@Suite("VERP")
struct VERPMatchingTests {
    static let environment = ["BROADSIDE_SECRET": "test-secret-0123456789"]

    /// Campaign "c" sent to `recipients` with a signed VERP return path per message.
    static func sentWithVERP(_ recipients: [String]) throws -> (dir: TemporaryDirectory, db: String, server: SMTPTestServer) {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let server = try SMTPTestServer()
        let list = try dir.write("l.csv", "email\n" + recipients.map { $0 + "\n" }.joined())
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hello\n\nHello.\n")
        guard try Command.broadside(["import", list, "--list", "l", "--db", db]).status == 0 else { throw TestSupportError("import failed") }
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url,
                                          "--verp-domain", "bounces.example.com", "--db", db], environment: environment)
        guard sent.status == 0 else { throw TestSupportError(sent.stderr) }
        return (dir, db, server)
    }

    @Test func aBounceToTheSignedReturnPathFindsItsMessageAndAForgedOneDoesNot() throws {
        let (dir, db, server) = try Self.sentWithVERP(["a@example.com", "b@example.com"])
        let environment = Self.environment
        let returnPaths = Dictionary(uniqueKeysWithValues: try server.received().map { ($0.rcpt_tos[0], $0.mail_from) })
        let returnPath = try #require(returnPaths["b@example.com"])
        #expect(returnPath.hasPrefix("bounce+") && returnPath.hasSuffix("@bounces.example.com"))
        #expect(returnPaths["a@example.com"] != returnPath, "each message has its own return path")

        // The bounce names a forwarding alias, not the address we sent to, and carries no Message-ID.
        let bounce = BounceTests.dsn(to: "alias@forward.example", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil)
            .replacing("To: news@example.com", with: "To: \(returnPath)")
        try dir.write("in/1.eml", bounce)
        let forged = bounce.replacing(returnPath, with: returnPath.replacing("bounce+1.", with: "bounce+1.9"))
        try dir.write("in/2.eml", forged)
        let result = try Command.broadside(["bounces", "import", dir.path("in"), "--db", db, "--json"], environment: environment)
        #expect(result.stdout.contains("\"matched\":1"), "\(result.stdout)")
        #expect(result.stdout.contains("\"unmatched\":1"))
        #expect(try sqlite(db, "SELECT recipient, state FROM messages ORDER BY recipient") == ["a@example.com|accepted", "b@example.com|bounced"])
    }

    /// A DSN sent to a VERP address with a bad tag is forged: the recipients it lists are
    /// not matched and not suppressed. An unsigned bounce that names only a recipient is
    /// kept unmatched unless the operator allows matching by recipient.
    @Test func aForgedBounceNeverSuppressesTheRecipientsItNames() throws {
        let (dir, db, server) = try Self.sentWithVERP(["a@example.com", "b@example.com", "c@example.com"])
        let environment = Self.environment
        defer { withExtendedLifetime(server) {} }
        let forged = BounceTests.dsn(to: "a@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil)
            .replacing("To: news@example.com", with: "To: bounce+1.1.000000000000@bounces.example.com")
        try dir.write("forged/1.eml", forged)
        let result = try Command.broadside(["bounces", "import", dir.path("forged"), "--db", db, "--json"], environment: environment)
        #expect(result.stdout.contains("\"matched\":0"), "\(result.stdout)")
        #expect(result.stdout.contains("\"suppressed\":0"), "\(result.stdout)")
        #expect(try sqlite(db, "SELECT count(*) FROM suppressions") == ["0"])

        // No VERP at all, no Message-ID: only the recipient names a message.
        let unsigned = BounceTests.dsn(to: "b@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil)
        try dir.write("unsigned/1.eml", unsigned)
        let kept = try Command.broadside(["bounces", "import", dir.path("unsigned"), "--db", db, "--json"], environment: environment)
        #expect(kept.stdout.contains("\"unmatched\":1"), "\(kept.stdout)")
        #expect(try sqlite(db, "SELECT count(*) FROM suppressions") == ["0"])
        try dir.write("unsigned2/1.eml", BounceTests.dsn(to: "c@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil))
        let allowed = try Command.broadside(["bounces", "import", dir.path("unsigned2"), "--match-by-recipient", "--db", db, "--json"],
                                            environment: environment)
        #expect(allowed.stdout.contains("\"matched\":1"), "\(allowed.stdout) \(allowed.stderr)")
        #expect(try sqlite(db, "SELECT address FROM suppressions") == ["c@example.com"])
    }

    /// A forward rewrote the address: the DSN's Final-Recipient is the new mailbox and its
    /// Original-Recipient the address that was sent to, which is the one matched and suppressed.
    @Test func aBounceOfAForwardedAddressMatchesByItsOriginalRecipient() throws {
        let (dir, db, server) = try Self.sentWithVERP(["a@example.com", "b@example.com"])
        defer { withExtendedLifetime(server) {} }
        let bounce = BounceTests.dsn(to: "b.smith@mail.forward.example", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", messageID: nil)
            .replacing("Final-Recipient:", with: "Original-Recipient: rfc822;b@example.com\r\nFinal-Recipient:")
        try dir.write("in/1.eml", bounce)
        let parsed = try Command.broadside(["bounces", "parse", dir.path("in/1.eml"), "--json"])
        #expect(parsed.stdout.contains("\"original_recipient\":\"b@example.com\""), "\(parsed.stdout)")
        let result = try Command.broadside(["bounces", "import", dir.path("in"), "--match-by-recipient", "--db", db, "--json"],
                                           environment: Self.environment)
        #expect(result.stdout.contains("\"matched\":1"), "\(result.stdout) \(result.stderr)")
        #expect(try sqlite(db, "SELECT recipient, state FROM messages ORDER BY recipient") == ["a@example.com|accepted", "b@example.com|bounced"])
        #expect(try sqlite(db, "SELECT address FROM suppressions") == ["b@example.com"])
    }
}
