import Foundation
import Testing
import TestSupport

/// What a fault-injection run broke, each reproduced against real servers and files.
@Suite("Hardening")
struct HardeningTests {
    /// The same database file through a symbolic link is the same campaign: one lock,
    /// one in-flight log. A second run through the link is refused while the first
    /// sends, and after a kill -9 the run through the link recovers what the first left.
    @Test func aSymbolicLinkToTheDatabaseSharesItsLockAndItsInFlightLog() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 3000)
        let link = fixture.dir.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fixture.db)

        let first = try Command.startBroadside(fixture.sendArguments + ["--smtp", server.url, "--connections", "8"]).process
        let deadline = Date().addingTimeInterval(20)
        while try server.received().count < 300, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let second = try Command.broadside(["resume", "c", "--db", link, "--smtp", server.url])
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(second.status == 3, "a second run through a link is refused: \(second.stderr)")
        #expect(second.stderr.contains("another"), "\(second.stderr)")

        let resumed = try Command.broadside(["resume", "c", "--db", link, "--smtp", server.url, "--connections", "8"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        var received: [String: Int] = [:]
        for message in try server.received() { received[message.rcpt_tos[0], default: 0] += 1 }
        let twice = received.filter { $0.value > 1 }
        #expect(twice.count == 0, "recipients received the message twice")
        let unknown = try sqlite(fixture.db, "SELECT count(*) FROM messages WHERE state = 'unknown'")
        #expect(Int(unknown.first ?? "") ?? 99 <= 8, "at most one unknown per connection")
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM messages WHERE state IN ('accepted', 'unknown')") == ["3000"])
    }
}

@Suite("Hardening: a database that fails during a send")
struct DatabaseFailureTests {
    /// A database failure while claiming messages pauses the campaign with exit 3, as the
    /// README promises, whatever the words of the error (it used to exit 0: the exit code
    /// was chosen by matching the pause's wording).
    @Test func aDatabaseFailureDuringASendExitsThree() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 5)
        // Creating the campaign inserts its messages; claiming one updates it: only the claim fails.
        _ = try sqlite(fixture.db, """
            CREATE TRIGGER fail_claims BEFORE UPDATE OF state ON messages WHEN NEW.state = 'claimed'
            BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END
            """)
        let sent = try fixture.send(["--smtp", server.url])
        #expect(sent.status == 3, "\(sent.stdout) \(sent.stderr)")
        #expect(sent.stdout.contains("database failed") || sent.stderr.contains("database failed"), "\(sent.stdout) \(sent.stderr)")
        #expect(try sqlite(fixture.db, "SELECT status FROM campaigns") == ["paused"])
        #expect(try server.received().isEmpty)
    }
}

@Suite("Hardening: servers that stall or answer nonsense")
struct StallingServerTests {
    /// A reply code outside 2xx–5xx after the final dot is no verdict: the message may
    /// have been delivered, so it is unknown, never failed (and never sent again).
    @Test func aReplyThatIsNoVerdictLeavesTheMessageUnknown() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["weird-a", "plain"])
        let sent = try fixture.send(["--smtp", server.url, "--connections", "1"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let states = try fixture.states()
        #expect(states["weird-a"] == "unknown")
        #expect(states["plain"] == "accepted")
    }

    /// A server that takes every message and never answers: after five unknowns in a row
    /// the campaign pauses (exit 3) instead of turning the whole list unknown.
    @Test func unknownsInARowPauseTheCampaign() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign((1...8).map { "stall-\($0)" } + (1...20).map { "user\($0)" })
        let sent = try fixture.send(["--smtp", server.url, "--connections", "1", "--reply-timeout", "1s"])
        #expect(sent.status == 3, "\(sent.stdout) \(sent.stderr)")
        #expect(sent.stderr.contains("no verdict"), "\(sent.stderr)")
        let states = try fixture.states()
        #expect(states.values.filter { $0 == "unknown" }.count == 5)
        #expect(states.values.filter { $0 == "accepted" }.isEmpty)
        #expect(try sqlite(fixture.db, "SELECT status FROM campaigns") == ["paused"])
    }

    /// A server that stops reading in the middle of DATA: the upload times out (the message
    /// is deferred, it never reached its end), and SIGTERM ends the run within the timeout.
    @Test func aServerThatStopsReadingDuringDataNeitherHangsTheRunNorSIGTERM() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["stallread-a"])
        let big = (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try fixture.dir.write("big.bin", bytes: big)
        try fixture.dir.write("t.txt", "From: News <news@example.com>\nSubject: Hello {{ name }}\nAttachment: big.bin\n\nDear {{ name }}.\n")

        let started = Date()
        let sent = try fixture.send(["--smtp", server.url, "--connections", "1", "--reply-timeout", "2s"])
        let took = Date().timeIntervalSince(started)
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(try fixture.states()["stallread-a"] == "deferred")
        #expect(took < 30, "the stalled upload ended after \(took) s")

        // SIGTERM while the upload is stalled ends the run within the timeout.
        #expect(try Command.broadside(["retry", "c", "--deferred", "--db", fixture.db]).status == 0)
        let resumed = try Command.startBroadside(["resume", "c", "--db", fixture.db, "--reply-timeout", "3s"]).process
        Thread.sleep(forTimeInterval: 1.5)
        kill(resumed.processIdentifier, SIGTERM)
        let asked = Date()
        resumed.waitUntilExit()
        #expect(Date().timeIntervalSince(asked) < 15, "SIGTERM ended the run")
        #expect(resumed.terminationStatus == 130)
    }
}

@Suite("Suppression at SMTP time and at the last moment")
struct SMTPSuppressionTests {
    /// A `550 5.1.1 user unknown` at RCPT suppresses the address as a hard bounce would,
    /// so that the next campaign does not mail it again; a refusal of the sender never does.
    @Test func aDeadAddressRefusedAtRCPTIsSuppressedAndNotMailedAgain() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["reject-gone", "policy-refused", "alive"])
        let first = try fixture.send(["--smtp", server.url, "--connections", "1"])
        #expect(first.status == 1, "a failed message makes exit 1: \(first.stderr)")
        #expect(try sqlite(fixture.db, "SELECT address, source FROM suppressions") == ["reject-gone@example.com|smtp"])
        #expect(try sqlite(fixture.db, "SELECT state FROM messages WHERE recipient LIKE 'policy-%'") == ["deferred"])
        let report = try Command.broadside(["report", "c", "--json", "--db", fixture.db])
        #expect(report.stdout.contains("\"suppressed\":{\"smtp\":1}"), "the report counts them: \(report.stdout.prefix(400))")

        let again = try Command.broadside(["send", "--template", fixture.template, "--list", "l", "--campaign", "second",
                                           "--smtp", server.url, "--db", fixture.db, "--json"])
        #expect(again.stdout.contains("\"skipped\":1"), "\(again.stdout)")
        let rcpts = try server.received().flatMap(\.rcpt_tos)
        #expect(rcpts.filter { $0 == "alive@example.com" }.count == 2)
        #expect(!rcpts.contains("reject-gone@example.com"))
    }

    /// `suppression: {hard_bounces: false}` is the operator's choice for refusals at SMTP time too.
    @Test func aPolicyWithoutHardBounceSuppressionSuppressesNothingAtSMTPTime() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["reject-gone", "alive"])
        let config = try fixture.dir.write("broadside.yaml", "suppression:\n  hard_bounces: false\n")
        let sent = try fixture.send(["--smtp", server.url, "--connections", "1", "--config", config])
        #expect(sent.status == 1, "\(sent.stderr)")
        #expect(try fixture.states()["reject-gone"] == "failed")
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM suppressions") == ["0"])
    }

    /// An address suppressed while its message waits in the engine (claimed and rendered
    /// ahead of a slow rate) is not mailed: suppression is checked again at the last moment.
    @Test func anAddressSuppressedDuringASlowSendIsNotMailed() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 40)
        let process = try Command.startBroadside(fixture.sendArguments + ["--smtp", server.url, "--rate", "5/s", "--connections", "1"]).process
        // Once sending has begun, every message is claimed and rendered; user35's turn is about 7 s away.
        let deadline = Date().addingTimeInterval(30)
        while try server.received().isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let added = try Command.broadside(["suppress", "add", "user35@example.com", "--db", fixture.db])
        #expect(added.status == 0, "\(added.stderr)")
        process.waitUntilExit()
        let rcpts = try server.received().flatMap(\.rcpt_tos)
        #expect(rcpts.count == 39)
        #expect(!rcpts.contains("user35@example.com"), "the unsubscribed address received the campaign's message")
        #expect(try fixture.states()["user35"] == "skipped")
    }

    /// A suppressed address is never mailed as a Cc either: it leaves the envelope and
    /// the header, the recipient still gets their message, and the message says why.
    @Test func aSuppressedCcIsLeftOut() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let server = try SMTPTestServer()
        let list = try dir.write("l.csv", "email,name,manager\nada@example.com,Ada,Boss <boss@example.com>\ngrace@example.org,Grace,ok@example.com\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nCc: {{ manager }}\nSubject: Hello {{ name }}\n\nHello.\n")
        #expect(try Command.broadside(["import", list, "--list", "l", "--db", db]).status == 0)
        #expect(try Command.broadside(["suppress", "add", "Boss@Example.com", "--db", db]).status == 0)
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db])
        #expect(sent.status == 0, "\(sent.stderr)")
        let received = Dictionary(uniqueKeysWithValues: try server.received().map { ($0.rcpt_tos[0], $0) })
        #expect(received["ada@example.com"]?.rcpt_tos == ["ada@example.com"])
        #expect(received["ada@example.com"]?.data.contains("boss@example.com") == false)
        #expect(received["grace@example.org"]?.rcpt_tos == ["grace@example.org", "ok@example.com"])
        #expect(try sqlite(db, "SELECT reason FROM messages WHERE recipient = 'ada@example.com'").first?.contains("boss@example.com") == true)
    }
}

@Suite("Hardening: what reports print")
struct ReportOutputTests {
    /// A recipient's address that a spreadsheet would run as a formula is written inert
    /// in the CSV report; a server's reply with terminal escapes is shown escaped.
    @Test func reportsNeutraliseFormulasAndTerminalEscapes() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let list = try dir.write("l.csv", "email,name\n\"=cmd|'/Ccalc'!A0@evil.test\",Eve\nada@example.com,Ada\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hi {{ name }}\n\nHello.\n")
        let imported = try Command.broadside(["import", list, "--list", "l", "--db", db, "--json"])
        #expect(imported.stdout.contains("\"imported\":2"), "\(imported.stdout) \(imported.stderr)")
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--dry-run",
                                          "--outbox", dir.path("outbox"), "--db", db])
        #expect(sent.status == 0, "\(sent.stderr)")
        let csv = try Command.broadside(["report", "c", "--format", "csv", "--db", db])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.contains("\n'=cmd|'/Ccalc'!A0@evil.test,"), "\(csv.stdout)")
        #expect(!csv.stdout.contains("\n=cmd"))

        _ = try sqlite(db, "UPDATE messages SET state = 'failed', reason = 'userunknown', reply = '550 ' || char(27) || ']0;pwned' || char(7) || char(27) || '[2J gone' WHERE recipient = 'ada@example.com'")
        let table = try Command.broadside(["report", "c", "--db", db])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("550 \\u{1B}]0;pwned\\u{7}\\u{1B}[2J gone"), "\(table.stdout)")
        #expect(!table.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
    }
}

@Suite("Hardening: commands that only read")
struct ReadOnlyCommandTests {
    /// `report`, `lists` and `campaigns` never create a database: a wrong --db is exit 2 naming the path.
    @Test func aMissingDatabaseIsAnErrorNotANewFile() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("typo.sqlite")
        for arguments in [["report", "c"], ["lists"], ["campaigns"], ["suppress", "list"]] {
            let result = try Command.broadside(arguments + ["--db", db])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(db), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db))
        }
    }

    /// A database this user can only read (a colleague's, a backup): reports work. Tests run
    /// as root, whom permissions do not stop, so the commands run as `nobody`.
    @Test func aDatabaseThatCanOnlyBeReadIsReported() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.url.path)
        let db = dir.path("b.sqlite")
        let list = try dir.write("l.csv", "email,name\nada@example.com,Ada\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hi\n\nHello.\n")
        #expect(try Command.broadside(["import", list, "--list", "l", "--db", db]).status == 0)
        #expect(try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--dry-run",
                                       "--outbox", dir.path("outbox"), "--db", db]).status == 0)
        let runuser = URL(fileURLWithPath: "/usr/sbin/runuser")
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: runuser.path),
              try Command.run(runuser, ["-u", "nobody", "--", Command.broadside.path, "--version"]).status == 0 else {
            print("Read-only database test: skipped, cannot run \(Command.broadside.path) as nobody (not root, or a folder on its path is private)")
            return
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        for arguments in [["report", "c"], ["lists"], ["campaigns"], ["report", "c", "--format", "csv"]] {
            let result = try Command.run(runuser, ["-u", "nobody", "--", Command.broadside.path] + arguments + ["--db", db])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == before, "reading wrote nothing beside the database")
    }
}

@Suite("Hardening: addresses that need SMTPUTF8")
struct SMTPUTF8Tests {
    static func list(_ dir: TemporaryDirectory) throws -> (db: String, template: String) {
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,name\njosé@example.com,José\nplain@example.com,Plain\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hi {{ name }}\n\nHello.\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        return (db, template)
    }

    /// A server that offers SMTPUTF8 gets the address as it is.
    @Test func aServerOfferingSMTPUTF8GetsTheAddress() throws {
        let dir = try TemporaryDirectory()
        let (db, template) = try Self.list(dir)
        let server = try SMTPTestServer()
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(Set(try server.received().flatMap(\.rcpt_tos)) == ["josé@example.com", "plain@example.com"])
    }

    /// A server that does not offer it never sees the address: that recipient fails with the reason.
    @Test func aServerWithoutSMTPUTF8NeverGetsANonASCIIAddress() throws {
        let dir = try TemporaryDirectory()
        let (db, template) = try Self.list(dir)
        let server = try SMTPTestServer(arguments: ["--no-smtputf8"])
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db])
        #expect(sent.status == 1, "\(sent.stderr)")
        #expect(try server.received().flatMap(\.rcpt_tos) == ["plain@example.com"])
        let jose = try sqlite(db, "SELECT state, reply FROM messages WHERE recipient = 'josé@example.com'")
        #expect(jose.first?.hasPrefix("failed|553 5.6.7") == true && jose.first?.contains("SMTPUTF8") == true, "\(jose)")
    }
}

@Suite("Hardening: a disk that fills")
struct FullDiskTests {
    /// The in-flight log reserves its space before the first message: on a nearly full
    /// disk `send` stops cleanly (exit 3, one line) instead of dying of SIGBUS in the map.
    @Test func aFullDiskIsACleanStopNotABusError() throws {
        let dir = try TemporaryDirectory()
        let mountPoint = dir.path("disk")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try Command.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint])
        guard mount.status == 0 else {
            print("Full disk test: skipped, cannot mount a small tmpfs here (\(mount.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
            return
        }
        defer { _ = try? Command.run(URL(fileURLWithPath: "/bin/umount"), [mountPoint]) }
        let server = try SMTPTestServer()
        let db = mountPoint + "/b.sqlite"
        let csv = try dir.write("l.csv", "email,name\n" + (1...300).map { "u\($0)@example.com,N\($0)\n" }.joined())
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hi {{ name }}\n\nHello.\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let first = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url,
                                           "--limit", "1", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        // Leave 300 KB: room for SQLite, not for eight connections' log.
        let free = try Command.run(URL(fileURLWithPath: "/bin/df"), ["--output=avail", "-k", mountPoint])
        let available = Int(free.stdout.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        #expect(try Command.run(URL(fileURLWithPath: "/bin/dd"), ["if=/dev/zero", "of=\(mountPoint)/fill", "bs=1k",
                                                                 "count=\(max(0, available - 300))"]).status == 0)
        let resumed = try Command.broadside(["resume", "c", "--connections", "8", "--db", db])
        #expect(resumed.status == 3, "\(resumed.stderr.prefix(300))")
        #expect(resumed.stderr.contains("space"), "\(resumed.stderr.prefix(300))")
        try FileManager.default.removeItem(atPath: mountPoint + "/fill")
        let finished = try Command.broadside(["resume", "c", "--db", db])
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(Set(try server.received().map { $0.rcpt_tos[0] }).count == 300)
        #expect(try server.received().count == 300, "none twice")
    }
}

@Suite("A server that requires sign-in")
struct SignInRequiredTests {
    /// Finding 10 of the merge-trust issue: no --user against a server that requires AUTH
    /// is one clean line and exit 3; no message changes state, and a resume with the
    /// sign-in sends them all.
    @Test func noUserAgainstAServerThatRequiresSignInStopsCleanly() throws {
        let server = try SMTPTestServer(arguments: ["--auth", "news:s3cret"])
        let fixture = try TestCampaign(count: 20)
        let sent = try fixture.send(["--smtp", server.url, "--connections", "4"])
        #expect(sent.status == 3, "\(sent.stdout) \(sent.stderr)")
        #expect(sent.stderr.contains("--user"), "\(sent.stderr)")
        #expect(sent.stderr.components(separatedBy: "\n").filter { $0.contains("530") || $0.contains("sign-in") }.count == 1, "\(sent.stderr)")
        #expect(try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state") == ["queued|20"])
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM events") == ["0"])

        let resumed = try Command.broadside(["resume", "c", "--user", "news", "--password-env", "PASS", "--db", fixture.db],
                                            environment: ["PASS": "s3cret"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try server.received().count == 20)
    }
}
