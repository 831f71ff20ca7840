import Foundation
import Testing
import TestSupport

/// The whole job through the real command, a real SMTP server and a real SQLite file.
@Suite("Campaign end to end")
struct EndToEndTests {
    static let template = """
        From: Example News <news@example.com>
        To: {{ first_name }} <{{ email }}>
        Subject: Hello {{ first_name }}, number {{ n }}

        Dear {{ first_name | default: "reader" }},
        this is message {{ n }}.

        """

    func makeList(_ count: Int, in dir: TemporaryDirectory, local: (Int) -> String = { "user\($0)" }) throws -> String {
        var csv = "email,first_name,n\n"
        for i in 1...count { csv += "\(local(i))@example.com,Name\(i),\(i)\n" }
        return try dir.write("list.csv", csv)
    }

    @Test func sendsFiftyPersonalMessagesEachToItsRecipientAlone() throws {
        let dir = try TemporaryDirectory()
        let server = try SMTPTestServer()
        let db = dir.path("b.sqlite")
        let csv = try makeList(50, in: dir)
        let template = try dir.write("t.txt", Self.template)

        let imported = try Command.broadside(["import", csv, "--list", "l", "--db", db, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"imported\":50"))

        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url,
                                          "--connections", "4", "--db", db, "--json"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(sent.stdout.utf8)) as? [String: Any]
        #expect(summary?["accepted"] as? Int == 50)
        #expect(summary?["failed"] as? Int == 0)

        let received = try server.received()
        #expect(received.count == 50)
        var seen: Set<String> = []
        for message in received {
            #expect(message.rcpt_tos.count == 1)
            let recipient = try #require(message.rcpt_tos.first)
            #expect(seen.insert(recipient).inserted, "\(recipient) received twice")
            let n = try #require(Int(recipient.dropFirst(4).prefix { $0.isNumber }))
            let headers = message.data.components(separatedBy: "\r\n\r\n")[0]
            #expect(headers.contains("\r\nTo: Name\(n) <\(recipient)>\r\n"), "To holds the recipient alone")
            #expect(headers.contains("Subject: Hello Name\(n), number \(n)\r\n"))
            #expect(!headers.contains("Cc:") && !headers.contains("Bcc:"))
            #expect(message.mail_from == "news@example.com")
        }
        #expect(seen.count == 50)

        // The database holds 50 accepted messages, each with the server's own reply.
        let rows = try sqlite(db, "SELECT m.recipient, m.reply FROM messages m WHERE m.state = 'accepted' ORDER BY m.recipient")
        #expect(rows.count == 50)
        let replies = Dictionary(uniqueKeysWithValues: received.map { ($0.rcpt_tos[0], $0.reply) })
        for row in rows {
            let parts = row.split(separator: "|", maxSplits: 1).map(String.init)
            #expect(parts.count == 2 && replies[parts[0]] == parts[1], "\(row)")
        }
        #expect(try sqlite(db, "SELECT count(*) FROM events WHERE state = 'accepted' AND smtp_code = 250 AND enhanced_status = '2.0.0'") == ["50"])

        let report = try Command.broadside(["report", "c", "--db", db, "--json"])
        #expect(report.status == 0)
        #expect(report.stdout.contains("\"accepted\":50"))
    }

    @Test func aWrongServerAddressExitsThreeAndChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try makeList(3, in: dir)
        let template = try dir.write("t.txt", Self.template)
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", db])
        // A port nothing listens on: bind one and close it again.
        let port = try freePort()
        let result = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", "smtp://127.0.0.1:\(port)", "--db", db])
        #expect(result.status == 3)
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        #expect(result.stderr.contains("127.0.0.1:\(port)"))
        #expect(try sqlite(db, "SELECT count(*) FROM messages") == ["0"])
    }

    @Test func scriptedFailuresEndInTheirStatesWithTheServersWords() throws {
        let dir = try TemporaryDirectory()
        let server = try SMTPTestServer()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,first_name,n\nok@example.com,A,1\nreject-1@example.com,B,2\ndefer-1@example.com,C,3\nfull-1@example.com,D,4\n")
        let template = try dir.write("t.txt", Self.template)
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", db])
        let result = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db, "--json"])
        #expect(result.status == 1, "failed messages make exit 1: \(result.stderr)")
        let rows = try sqlite(db, "SELECT recipient, state, smtp_code, enhanced_status FROM messages ORDER BY id")
        #expect(rows == [
            "ok@example.com|accepted|250|2.0.0",
            "reject-1@example.com|failed|550|5.1.1",
            "defer-1@example.com|deferred|451|4.3.0",
            "full-1@example.com|deferred|552|5.2.2",   // X.2.2 is transient even as a 5xx
        ])
        let reply = try sqlite(db, "SELECT reply FROM messages WHERE recipient = 'reject-1@example.com'")
        #expect(reply.first?.contains("User unknown") == true)
        #expect(try server.received().map { $0.rcpt_tos[0] } == ["ok@example.com"])
    }

    @Test func dryRunWritesOneEMLFilePerRecipient() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try makeList(5, in: dir)
        let template = try dir.write("t.txt", Self.template)
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", db])
        let result = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--dry-run",
                                            "--outbox", dir.path("outbox"), "--db", db, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path("outbox")).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 5)
        let parsed = try PythonEmail.parse(Array(try Data(contentsOf: dir.url.appendingPathComponent("outbox/\(files[0])"))))
        #expect(parsed.defects.isEmpty)
        #expect(try sqlite(db, "SELECT count(*) FROM messages WHERE state = 'accepted'") == ["5"])
    }

    @Test func aResumedCampaignNeverSendsAnAcceptedMessageAgain() throws {
        let dir = try TemporaryDirectory()
        let server = try SMTPTestServer()
        let db = dir.path("b.sqlite")
        let csv = try makeList(20, in: dir)
        let template = try dir.write("t.txt", Self.template)
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", db])
        let first = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--limit", "7", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try server.received().count == 7)
        let second = try Command.broadside(["resume", "c", "--db", db])
        #expect(second.status == 0, "\(second.stderr)")
        let recipients = try server.received().map { $0.rcpt_tos[0] }
        #expect(recipients.count == 20)
        #expect(Set(recipients).count == 20)
    }
}

/// Runs a statement with Python's sqlite3 module (an independent reader of the file) and
/// commits it; the rows come back joined by "|".
func sqlite(_ db: String, _ query: String) throws -> [String] {
    let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute(sys.argv[2]): print('|'.join('' if v is None else str(v) for v in r))\nc.commit()"
    let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, db, query])
    guard result.status == 0 else { throw TestSupportError(result.stderr) }
    return result.stdout.split(separator: "\n").map(String.init)
}

/// A loopback port that nothing listens on.
func freePort() throws -> Int {
    let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"])
    guard let port = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestSupportError("no free port") }
    return port
}
