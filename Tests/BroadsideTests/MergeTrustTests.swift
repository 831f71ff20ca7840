import Foundation
import Testing
import TestSupport

/// What each recipient receives is what was checked: merge data belongs to the list a
/// row was imported into, and a campaign freezes its data and files when it starts.
@Suite("What was checked is what is sent")
struct MergeTrustTests {
    static let invoiceTemplate = """
        From: Billing <billing@example.com>
        Subject: amount {{ amount }}
        Attachment: terms.txt

        Your amount is {{ amount }}.

        """

    /// Finding 1: `dec.csv` imported into another list used to overwrite the fields a
    /// running campaign of list `nov` sends; and a replaced attachment was sent as replaced.
    @Test func anotherListsImportAndAnEditedFileNeverChangeAStartedCampaign() throws {
        let dir = try TemporaryDirectory()
        let server = try SMTPTestServer()
        let db = dir.path("b.sqlite")
        let template = try dir.write("t.txt", Self.invoiceTemplate)
        let terms = try dir.write("terms.txt", "terms as checked\n")
        let nov = try dir.write("nov.csv", "email,amount\nm1@example.com,100\nm2@example.com,200\n")
        let dec = try dir.write("dec.csv", "email,amount\nm2@example.com,888\n")

        #expect(try Command.broadside(["import", nov, "--list", "nov", "--db", db]).status == 0)
        let first = try Command.broadside(["send", "--template", template, "--list", "nov", "--campaign", "novinv", "--smtp", server.url,
                                           "--connections", "1", "--limit", "1", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try server.received().count == 1)

        let imported = try Command.broadside(["import", dec, "--list", "dec", "--db", db, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"imported\":1"))
        try Data("terms REPLACED after the start\n".utf8).write(to: URL(fileURLWithPath: terms))

        let resumed = try Command.broadside(["resume", "novinv", "--db", db])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("terms.txt"), "a changed file is reported: \(resumed.stderr)")

        let received = try server.received()
        #expect(received.count == 2)
        let m2 = try #require(received.first { $0.rcpt_tos == ["m2@example.com"] })
        #expect(m2.data.contains("Subject: amount 200\r\n"), "m2 gets the amount of list nov")
        #expect(!m2.data.contains("888"))
        let parts = try PythonEmail.parts(of: m2.data)
        #expect(parts.contains { $0.filename == "terms.txt" && $0.text == "terms as checked\n" }, "\(parts)")

        // The other list keeps its own data: a campaign of dec says 888.
        let decSend = try Command.broadside(["send", "--template", template, "--list", "dec", "--campaign", "decinv", "--smtp", server.url,
                                             "--db", db])
        #expect(decSend.status == 0, "\(decSend.stderr)")
        let last = try #require(try server.received().last)
        #expect(last.data.contains("Subject: amount 888\r\n"))
    }

    /// Re-importing a list reports what changed: an updated member is "updated".
    @Test func reimportingCountsChangedMembersAsUpdated() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let a = try dir.write("a.csv", "email,amount\nm1@example.com,100\nm2@example.com,200\n")
        let b = try dir.write("b.csv", "email,amount\nm1@example.com,100\nm2@example.com,300\n")
        #expect(try Command.broadside(["import", a, "--list", "nov", "--db", db]).status == 0)
        let again = try Command.broadside(["import", b, "--list", "nov", "--db", db, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\"updated\":1"), "\(again.stdout)")
        #expect(again.stdout.contains("\"imported\":0"), "\(again.stdout)")
        // A list of the same addresses elsewhere is a list of its own: nothing "updated" there.
        let other = try Command.broadside(["import", b, "--list", "other", "--db", db, "--json"])
        #expect(other.stdout.contains("\"imported\":2"), "\(other.stdout)")
        #expect(try sqlite(db, "SELECT m.fields FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id WHERE l.name = 'nov' AND c.address = 'm2@example.com'")
                == [#"{"email":"m2@example.com","amount":"300"}"#])
    }

    /// Finding 2: a send that refuses (exit 2) leaves no campaign behind.
    @Test func aSendThatRefusesLeavesNoCampaign() throws {
        let setup = try TestCampaign(count: 3)
        let server = try SMTPTestServer()
        var environment = ProcessInfo.processInfo.environment
        environment["BROADSIDE_SECRET"] = nil
        let refused = try Command.run(Command.broadside, setup.sendArguments + ["--smtp", server.url, "--unsubscribe-url", "https://x.test/u/"],
                                      environment: ["BROADSIDE_SECRET": ""])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(try sqlite(setup.db, "SELECT count(*) FROM campaigns") == ["0"])
        #expect(try server.received().isEmpty)

        let outbox = setup.dir.path("outbox")
        let dry = try setup.send(["--dry-run", "--outbox", outbox, "--unsubscribe-url", "https://x.test/u/"], environment: ["BROADSIDE_SECRET": ""])
        #expect(dry.status == 2)
        #expect(!FileManager.default.fileExists(atPath: outbox), "no outbox folder for a refused dry run")
        #expect(try sqlite(setup.db, "SELECT count(*) FROM campaigns") == ["0"])
    }

    /// Finding 2: a dry run never consumes a real send of the same name.
    @Test func aDryRunDoesNotBlockTheRealSend() throws {
        let setup = try TestCampaign(count: 4)
        let server = try SMTPTestServer()
        let dry = try setup.send(["--dry-run", "--outbox", setup.dir.path("outbox")])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.dir.path("outbox")).count == 4)

        let real = try setup.send(["--smtp", server.url])
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout.contains("\"accepted\":4"), "\(real.stdout)")
        #expect(try server.received().count == 4)
        #expect(try sqlite(setup.db, "SELECT count(*) FROM campaigns") == ["1"])
        #expect(try sqlite(setup.db, "SELECT dry_run FROM campaigns") == ["0"])
    }
}

/// `check` is the gate before sending: it reports only what a recipient would really see
/// wrong, and everything of that in one run.
@Suite("check without false alarms")
struct CheckGateTests {
    /// Finding 3: a field printed inside a condition that tests it is no problem when empty.
    @Test func aFieldGuardedByItsConditionIsNoProblem() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,name,city\na@example.com,Ada,Paris\nb@example.com,Bob,\n")
        let template = try dir.write("t.txt", """
            From: News <news@example.com>
            Subject: Hello {{ name }}

            {% if city %}Readers in {{ city }}.{% endif %}
            {% if city == "Paris" %}Bonjour {{ city }}.{% endif %}

            """)
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db])
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.stdout.contains("no problems"))

        // Printed outside the condition, an empty city is still reported.
        let unguarded = try dir.write("u.txt", "From: News <news@example.com>\nSubject: Hi\n\n{% if name %}{{ name }}{% endif %} from {{ city }}\n")
        let reported = try Command.broadside(["check", "--template", unguarded, "--list", "l", "--db", db])
        #expect(reported.status == 2)
        #expect(reported.stdout.contains("line 3 (b@example.com): 'city' is empty"), "\(reported.stdout)")
    }

    /// Every missing column in one run, each with its place and the nearest column; the
    /// columns listed are the list's, not `unsubscribe_url`.
    @Test func everyMissingColumnInOneRunWithDidYouMean() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,first_name,city\na@example.com,Ada,Paris\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hello {{ firstname }}\n\nFrom {{ ctiy }}, {{ zodiac }}.\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db])
        #expect(check.status == 2)
        #expect(check.stderr.contains("t.txt:2:19: 'firstname' is not a column") && check.stderr.contains("did you mean 'first_name'?"), "\(check.stderr)")
        #expect(check.stderr.contains("t.txt:4:9: 'ctiy'") && check.stderr.contains("did you mean 'city'?"), "\(check.stderr)")
        #expect(check.stderr.contains("'zodiac' is not a column"), "\(check.stderr)")
        #expect(!check.stderr.contains("unsubscribe_url"), "\(check.stderr)")
    }

    /// Finding 4: `{{ unsubscribe_url }}` with no unsubscribe link set is an error in check,
    /// preview and send (it would send href=""); preview shows the real link when given one.
    @Test func anUnsubscribeLinkWithoutItsSettingIsRefused() throws {
        let setup = try TestCampaign(count: 2)
        let template = try setup.dir.write("html.txt", "From: News <news@example.com>\nSubject: Hi\n\nBye: {{ unsubscribe_url }}\n")
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", setup.db])
        #expect(check.status == 2 && check.stderr.contains("--unsubscribe-url"), "\(check.stderr)")
        let preview = try Command.broadside(["preview", "--template", template, "--list", "l", "--db", setup.db])
        #expect(preview.status == 2 && preview.stderr.contains("--unsubscribe-url"), "\(preview.stderr)")
        let server = try SMTPTestServer()
        let send = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", setup.db])
        #expect(send.status == 2 && send.stderr.contains("--unsubscribe-url"), "\(send.stderr)")
        #expect(try sqlite(setup.db, "SELECT count(*) FROM campaigns") == ["0"])

        let secret = ["BROADSIDE_SECRET": "a-long-random-test-secret"]
        let checked = try Command.broadside(["check", "--template", template, "--list", "l", "--db", setup.db,
                                             "--unsubscribe-url", "https://news.example.com/u/"], environment: secret)
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        let shown = try Command.broadside(["preview", "--template", template, "--list", "l", "--db", setup.db,
                                           "--unsubscribe-url", "https://news.example.com/u/"], environment: secret)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("Bye: https://news.example.com/u/"), "\(shown.stdout)")
    }
}

/// Finding 6: states that read right.
@Suite("Campaign states that read right")
struct CampaignStateTests {
    @Test func aFinishedCampaignCannotBePausedAndKeepsItsFinishTime() throws {
        let setup = try TestCampaign(count: 3)
        let server = try SMTPTestServer()
        #expect(try setup.send(["--smtp", server.url]).status == 0)
        let finished = try sqlite(setup.db, "SELECT status, finished_at FROM campaigns")
        let pause = try Command.broadside(["pause", "c", "--db", setup.db])
        #expect(pause.status == 2 && pause.stderr.contains("finished"), "\(pause.stderr)")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try setup.send(["--smtp", server.url]).status == 0, "a send with nothing due")
        #expect(try sqlite(setup.db, "SELECT status, finished_at FROM campaigns") == finished, "finished_at is set once")
        #expect(try server.received().count == 3)
    }

    /// The counts of `campaigns` add up to the total, with messages in flight as "sending";
    /// a campaign with only retries to come reads "waiting" with the next retry's time.
    @Test func countsAddUpAndACampaignWaitingForRetriesSaysSo() throws {
        let setup = try TestCampaign(["defer-a", "user1", "user2"])
        let server = try SMTPTestServer()
        let sent = try setup.send(["--smtp", server.url])
        #expect(sent.status == 0, "\(sent.stderr)")
        _ = try sqlite(setup.db, "UPDATE messages SET state = 'claimed' WHERE recipient = 'user2@example.com'")
        let table = try Command.broadside(["campaigns", "--db", setup.db])
        let row = try #require(table.stdout.split(separator: "\n").last.map(String.init))
        let numbers = row.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count == 10, "\(table.stdout)")
        #expect(numbers.dropLast().reduce(0, +) == numbers.last, "the columns add up to the total: \(row)")
        #expect(numbers.last == 3)
        _ = try sqlite(setup.db, "UPDATE messages SET state = 'accepted' WHERE recipient = 'user2@example.com'")
        let waiting = try Command.broadside(["campaigns", "--db", setup.db])
        #expect(waiting.stdout.contains("waiting") && waiting.stdout.contains("next retry"), "\(waiting.stdout)")
    }

    /// After Ctrl-C the hint says the queued messages can go now, not when retries fall due.
    @Test func afterAnInterruptTheHintSaysQueuedMessagesGoNow() throws {
        let setup = try TestCampaign(["defer-a"] + (1...300).map { "user\($0)" })
        let server = try SMTPTestServer()
        let run = try Command.startBroadside(setup.sendArguments.filter { $0 != "--json" } + ["--smtp", server.url, "--rate", "20/s"],
                                             capturingOutput: true)
        let process = run.process
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, SIGINT)
        let printed = run.readOutput()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(printed.contains("are queued: 'broadside resume c' sends them now"), "\(printed)")
        #expect(!printed.contains("fall due"), "\(printed)")
    }
}

/// Finding 9: what `send` or the server would refuse, `check` reports first; what would
/// crash or run for ever is a clear error instead.
@Suite("check = send")
struct CheckEqualsSendTests {
    @Test func aHeaderLineOverTheSMTPLimitIsReportedAndNeverSent() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let long = "https://track.example.com/?" + String(repeating: "x", count: 1100)
        let csv = try dir.write("l.csv", "email,url\nlong@example.com,\(long)\nshort@example.com,https://example.com/\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nX-Track: {{ url }}\nSubject: Hi\n\nHello.\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db])
        #expect(check.status == 2)
        #expect(check.stdout.contains("line 2 (long@example.com): the X-Track header renders to a line of"), "\(check.stdout)")
        #expect(!check.stdout.contains("short@example.com"))
        let server = try SMTPTestServer()
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db])
        #expect(sent.status == 1)
        #expect(try server.received().map { $0.rcpt_tos[0] } == ["short@example.com"])
        #expect(try sqlite(db, "SELECT state FROM messages WHERE recipient = 'long@example.com'") == ["failed"])
    }

    @Test(arguments: [
        ("deep-if", String(repeating: "{% if a %}", count: 10_000) + "x" + String(repeating: "{% endif %}", count: 10_000), "nest"),
        ("deep-parens", "{{ " + String(repeating: "(", count: 10_000) + "a" + String(repeating: ")", count: 10_000) + " }}", "nests"),
        ("deep-not", "{% if " + String(repeating: "not ", count: 10_000) + "a %}x{% endif %}", "nests"),
        ("loops", "{% for x in items %}{% for y in items %}{% for z in items %}{{ z }}{% endfor %}{% endfor %}{% endfor %}", "loops here run"),
    ])
    func aTemplateThatWouldCrashOrRunForEverIsAClearError(name: String, body: String, reason: String) throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let items = (1...2000).map { "i\($0)" }.joined(separator: ";")
        let csv = try dir.write("l.csv", "email,a,items\nx@example.com,1,\(items)\n")
        let template = try dir.write("\(name).txt", "From: News <news@example.com>\nSubject: Hi\n\n" + body + "\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db])
        #expect(check.status == 2, "\(name): exit \(check.status)")
        #expect((check.stdout + check.stderr).contains(reason), "\(name): \((check.stdout + check.stderr).prefix(300))")
    }
}

/// A database written before merge data moved to list memberships (schema v1) is carried
/// forward: its campaigns stay sendable with the fields they would have sent.
@Suite("Migration")
struct MigrationTests {
    @Test func aVersionOneDatabaseKeepsItsCampaignsSendable() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let server = try SMTPTestServer()
        let csv = try dir.write("l.csv", "email,amount\nm1@example.com,100\nm2@example.com,200\n")
        let template = try dir.write("t.txt", "From: Billing <billing@example.com>\nSubject: amount {{ amount }}\nAttachment: terms.txt\n\nHello.\n")
        try dir.write("terms.txt", "terms\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        #expect(try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url,
                                       "--limit", "1", "--db", db]).status == 0)
        // Back to the v1 schema: fields on the contact, nothing frozen, no identity.
        let downgrade = """
            UPDATE contacts SET fields = (SELECT m.fields FROM list_members m WHERE m.contact_id = contacts.id);
            ALTER TABLE list_members DROP COLUMN fields;
            ALTER TABLE messages DROP COLUMN fields;
            ALTER TABLE campaigns DROP COLUMN dry_run;
            ALTER TABLE campaigns DROP COLUMN files_frozen;
            ALTER TABLE lists DROP COLUMN staging_for;
            ALTER TABLE lists DROP COLUMN staging_pid;
            DROP TABLE campaign_files; DROP TABLE files; DROP TABLE database_identity; DROP TABLE forgotten; DROP TABLE sent_copies; DROP TABLE tracking_events; DROP TABLE replies; DROP TABLE engagement; DROP TABLE link_engagement; DROP TABLE machine_requests;
            DROP TABLE relay_periods; ALTER TABLE events DROP COLUMN relay; ALTER TABLE events DROP COLUMN reply_seconds;
            DELETE FROM grdb_migrations WHERE identifier NOT LIKE 'v1:%';
            """
        let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()"
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, db, downgrade])
        #expect(result.status == 0, "\(result.stderr)")

        let resumed = try Command.broadside(["resume", "c", "--db", db])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let received = try server.received()
        #expect(received.count == 2)
        let m2 = try #require(received.first { $0.rcpt_tos == ["m2@example.com"] })
        #expect(m2.data.contains("Subject: amount 200\r\n"))
        #expect(try PythonEmail.parts(of: m2.data).map(\.filename) == ["terms.txt"])
        #expect(try sqlite(db, "SELECT identifier FROM grdb_migrations ORDER BY identifier").count == 8)
        #expect(try sqlite(db, "SELECT length(id) FROM database_identity") == ["0"], "a database that sent keeps its tokens' key")
        let lists = try Command.broadside(["lists", "--db", db])
        #expect(lists.stdout.contains("amount"), "\(lists.stdout)")
    }
}

/// Managing lists and campaigns; nothing here ever deletes a suppression.
@Suite("Managing lists and campaigns")
struct ManagementTests {
    @Test func removeSyncAndDeleteListMembersButNeverSuppressions() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let all = try dir.write("all.csv", "email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\n")
        let fewer = try dir.write("fewer.csv", "email,name\na@example.com,A\n")
        #expect(try Command.broadside(["import", all, "--list", "l", "--db", db]).status == 0)
        let empty = try Command.broadside(["suppress", "list", "--db", db])
        #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr.contains("suppression list is empty"), "\(empty.stderr)")
        #expect(try Command.broadside(["suppress", "add", "c@example.com", "--db", db]).status == 0)

        let removed = try Command.broadside(["lists", "remove", "l", "B@Example.com", "nobody@example.com", "--db", db])
        #expect(removed.status == 0 && removed.stdout.contains("1 address(es) removed"), "\(removed.stdout) \(removed.stderr)")

        let refused = try Command.broadside(["import", fewer, "--list", "l", "--sync", "--db", db])
        #expect(refused.status == 2 && refused.stderr.contains("--yes"), "\(refused.stderr)")
        let synced = try Command.broadside(["import", fewer, "--list", "l", "--sync", "--yes", "--db", db, "--json"])
        #expect(synced.status == 0 && synced.stdout.contains("\"removed\":1"), "\(synced.stdout) \(synced.stderr)")
        #expect(try sqlite(db, "SELECT c.address FROM list_members m JOIN contacts c ON c.id = m.contact_id") == ["a@example.com"])

        let deleted = try Command.broadside(["lists", "delete", "l", "--db", db])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let shown = try Command.broadside(["lists", "--db", db])
        #expect(shown.stdout.contains("No lists yet"), "\(shown.stdout)")
        #expect(try sqlite(db, "SELECT address FROM suppressions") == ["c@example.com"], "suppressions stay")
    }

    @Test func campaignsAreRenamedAndDeletedButNotWhileSendingAndTheirListIsKept() throws {
        let setup = try TestCampaign(count: 40)
        let server = try SMTPTestServer()
        let process = try Command.startBroadside(setup.sendArguments + ["--smtp", server.url, "--rate", "10/s"]).process
        // Sending for sure: the first message has arrived.
        let deadline = Date().addingTimeInterval(30)
        while try server.received().isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let busy = try Command.broadside(["campaigns", "delete", "c", "--db", setup.db])
        #expect(busy.status == 2 && busy.stderr.contains("sending"), "\(busy.stderr)")
        let busyRename = try Command.broadside(["campaigns", "rename", "c", "d", "--db", setup.db])
        #expect(busyRename.status == 2, "\(busyRename.stderr)")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()

        let listInUse = try Command.broadside(["lists", "delete", "l", "--db", setup.db])
        #expect(listInUse.status == 2 && listInUse.stderr.contains("'c'"), "\(listInUse.stderr)")
        let renamed = try Command.broadside(["campaigns", "rename", "c", "march", "--db", setup.db])
        #expect(renamed.status == 0, "\(renamed.stderr)")
        #expect(try sqlite(setup.db, "SELECT name FROM campaigns") == ["march"])
        let deleted = try Command.broadside(["campaigns", "delete", "march", "--db", setup.db])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try sqlite(setup.db, "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM messages), (SELECT count(*) FROM events)") == ["0|0|0"])
        #expect(try Command.broadside(["lists", "delete", "l", "--db", setup.db]).status == 0)
    }
}

/// `send --test`: one row's message as the campaign would send it, to one address, recorded nowhere.
@Suite("A test send")
struct TestSendTests {
    @Test func oneRowsMessageGoesToTheTestAddressAloneAndNothingIsRecorded() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let server = try SMTPTestServer()
        let csv = try dir.write("l.csv", "email,name,manager\nada@example.com,Ada,boss@example.com\ngrace@example.org,Grace,\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nCc: {{ manager }}\nSubject: Hello {{ name }}\n\nDear {{ name }}.\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let test = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url,
                                          "--test", "me@test.example", "--row", "2", "--db", db])
        #expect(test.status == 0, "\(test.stderr)")
        let received = try server.received()
        #expect(received.count == 1)
        #expect(received.first?.rcpt_tos == ["me@test.example"])
        #expect(received.first?.data.contains("Subject: Hello Grace\r\n") == true)
        #expect(try sqlite(db, "SELECT count(*) FROM campaigns") == ["0"], "nothing recorded")

        // Of the first row, the Cc is shown but never mailed.
        let first = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url,
                                           "--test", "me@test.example", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try server.received().last?.rcpt_tos == ["me@test.example"])
        #expect(try server.received().last?.data.contains("Subject: Hello Ada\r\n") == true)
        #expect(try sqlite(db, "SELECT count(*) FROM campaigns") == ["0"])
    }
}

/// Tables line up by the columns text takes on a terminal, so CJK names align.
@Suite("Tables for people")
struct TableAlignmentTests {
    /// Terminal columns of a line: CJK characters take two.
    static func columns(_ text: Substring) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ((0x4E00...0x9FFF).contains($1.value) ? 2 : 1) }
    }

    @Test func listsAndCampaignsAlignChineseNames() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email\na@example.com\n")
        for name in ["十一月发票", "nov"] {
            #expect(try Command.broadside(["import", csv, "--list", name, "--db", db]).status == 0)
            #expect(try Command.broadside(["send", "--template", try dir.write("t.txt", "From: a@example.com\nSubject: x\n\nhi\n"), "--list", name,
                                           "--campaign", name, "--dry-run", "--outbox", dir.path("out-\(name.count)"), "--db", db]).status == 0)
        }
        for command in ["lists", "campaigns"] {
            let table = try Command.broadside([command, "--db", db])
            let rows = table.stdout.split(separator: "\n").filter { $0.hasPrefix("十一月发票") || $0.hasPrefix("nov") }
            #expect(rows.count == 2, "\(table.stdout)")
            // Where the second column starts, in terminal columns.
            let starts = rows.map { row in Self.columns(row.prefix { $0 != " " }) + row.drop { $0 != " " }.prefix { $0 == " " }.count }
            #expect(Set(starts).count == 1, "\(command):\n\(table.stdout)")
        }
    }
}

/// `broadside.yaml`: a misspelt key is an error with its line and the key meant; a YAML
/// syntax error says where.
@Suite("Configuration errors")
struct ConfigurationErrorTests {
    @Test func anUnknownKeyNamesItsLineAndTheKeyMeant() throws {
        let setup = try TestCampaign(count: 1)
        let config = try setup.dir.write("broadside.yaml", """
            profiles:
              relay:
                smtp: smtp://127.0.0.1:2525
                conections: 4
            """)
        let result = try setup.send(["--config", config, "--profile", "relay"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("broadside.yaml:4:") && result.stderr.contains("'conections'")
                && result.stderr.contains("did you mean 'connections'?"), "\(result.stderr)")
        #expect(try sqlite(setup.db, "SELECT count(*) FROM campaigns") == ["0"])

        let broken = try setup.dir.write("broken.yaml", "profiles:\n  relay:\n    smtp: [unclosed\n")
        let syntax = try setup.send(["--config", broken, "--profile", "relay"])
        #expect(syntax.status == 2)
        #expect(syntax.stderr.range(of: #"broken\.yaml: \d+:\d+: "#, options: .regularExpression) != nil, "\(syntax.stderr)")
    }
}

/// `preview`: several messages on standard output are told apart; with --out, every bad row is reported.
@Suite("preview")
struct PreviewTests {
    @Test func messagesOnStandardOutputAreSeparatedAndEveryBadRowIsReported() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,file\na@example.com,ok.txt\nb@example.com,missing1.txt\nc@example.com,missing2.txt\n")
        try dir.write("ok.txt", "ok\n")
        let plain = try dir.write("plain.txt", "From: News <news@example.com>\nSubject: Hi\n\nHello.\n")
        let withFiles = try dir.write("files.txt", "From: News <news@example.com>\nSubject: Hi\nAttachment: {{ file }}\n\nHello.\n")
        #expect(try Command.broadside(["import", csv, "--list", "l", "--db", db]).status == 0)
        let shown = try Command.broadside(["preview", "--template", plain, "--list", "l", "--limit", "3", "--db", db])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("===== message 1: line 2, a@example.com =====\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("===== message 3: line 4, c@example.com =====\n"))
        let one = try Command.broadside(["preview", "--template", plain, "--list", "l", "--db", db])
        #expect(!one.stdout.contains("====="), "one message is a plain .eml")

        let out = dir.path("out")
        let bad = try Command.broadside(["preview", "--template", withFiles, "--list", "l", "--out", out, "--db", db])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("line 3 (b@example.com)") && bad.stderr.contains("line 4 (c@example.com)"), "\(bad.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 1, "the good row is still written")
    }
}
