import Foundation
import Signing
import Testing
import TestSupport

@Suite("DKIM and unsubscribe links on sent mail")
struct DeliverabilityTests {
    @Test func everyMessageIsSignedAndCarriesItsOwnOneClickUnsubscribeLink() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let server = try SMTPTestServer()
        let key = dir.path("dkim.pem")
        _ = try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), ["genpkey", "-algorithm", "ed25519", "-out", key])
        _ = try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), ["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", dir.path("pub.der")])
        let publicKey = try Data(contentsOf: URL(fileURLWithPath: dir.path("pub.der"))).suffix(32).base64EncodedString()

        let list = try dir.write("l.csv", "email,name\nada@example.com,Ada\ngrace@example.org,Grace\n")
        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hello {{ name }}\n\nDear {{ name }},\nunsubscribe: {{ unsubscribe_url }}\n")
        try Command.broadsideSucceeding(["import", list, "--list", "l", "--db", db])
        let secret = "a-long-random-test-secret"
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db,
                                          "--dkim-key", key, "--dkim-selector", "s1", "--unsubscribe-url", "https://news.example.com/u/",
                                          "--unsubscribe-mailto", "unsubscribe@example.com"], environment: ["BROADSIDE_SECRET": secret])
        #expect(sent.status == 0, "\(sent.stderr)")
        let tokens = UnsubscribeToken(secret: secret, database: try sqlite(db, "SELECT id FROM database_identity").first ?? "")
        let received = try server.received()
        #expect(received.count == 2)
        var seen: Set<String> = []
        for message in received {
            let verify = """
                import dkim, sys
                record = ("v=DKIM1; k=ed25519; p=%s" % sys.argv[1]).encode()
                print(dkim.verify(sys.stdin.buffer.read(), dnsfunc=lambda name, timeout=5: record))
                """
            let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", verify, publicKey], input: Data(message.data.utf8))
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "True", "\(result.stderr)")
            let parsed = try PythonEmail.parse(Array(message.data.utf8))
            let header = try #require(parsed.headers["List-Unsubscribe"])
            #expect(parsed.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
            #expect(header.contains("<mailto:unsubscribe@example.com?subject=unsubscribe%20"))
            let url = try #require(header.split(separator: "<").first { $0.hasPrefix("https://") }.map { String($0.prefix { $0 != ">" }) })
            let token = String(url.dropFirst("https://news.example.com/u/".count))
            #expect(tokens.decode(token) != nil, "the token verifies")
            #expect(!token.contains("@"), "no address in clear")
            #expect(parsed.text?.contains(url) == true, "{{ unsubscribe_url }} is the same link")
            seen.insert(token)
        }
        #expect(seen.count == 2, "each recipient has a token of their own")
        #expect(!(try Data(contentsOf: URL(fileURLWithPath: db))).contains(Data(secret.utf8)), "the secret is never stored")
    }
}

@Suite("A recipient's own Cc")
struct CcTests {
    @Test func theCcGetsTheSameTransactionAndNeverFailsTheRecipient() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let server = try SMTPTestServer()
        let list = try dir.write("l.csv", """
            email,name,manager
            ada@example.com,Ada,"Lovelace, Boss <boss@example.com>"
            grace@example.org,Grace,
            alan@example.net,Alan,reject-1@example.com
            reject-2@example.com,Nobody,boss@example.com

            """)
        let template = try dir.write("t.txt", "From: News <news@example.com>\nTo: {{ name }} <{{ email }}>\nCc: {{ manager }}\nBcc-Note: none\nSubject: Hello {{ name }}\n\nHello.\n")
        try Command.broadsideSucceeding(["import", list, "--list", "l", "--db", db])
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", server.url, "--db", db])
        #expect(sent.status == 1, "the refused recipient fails: \(sent.stderr)")
        let received = Dictionary(uniqueKeysWithValues: try server.received().map { ($0.rcpt_tos[0], $0) })
        #expect(received["ada@example.com"]?.rcpt_tos == ["ada@example.com", "boss@example.com"])
        #expect(received["ada@example.com"]?.data.contains("\r\nCc: \"Lovelace, Boss\" <boss@example.com>\r\n") == true)
        #expect(received["ada@example.com"]?.data.contains("\r\nTo: Ada <ada@example.com>\r\n") == true, "To holds the recipient alone")
        #expect(received["grace@example.org"]?.rcpt_tos == ["grace@example.org"])
        #expect(received["grace@example.org"]?.data.contains("\r\nCc:") == false)
        #expect(received["alan@example.net"]?.rcpt_tos == ["alan@example.net"], "a refused Cc does not fail the recipient")
        #expect(received["reject-2@example.com"] == nil && !received.values.contains { $0.rcpt_tos.contains("reject-2@example.com") })
        #expect(try sqlite(db, "SELECT recipient, state FROM messages ORDER BY id") == [
            "ada@example.com|accepted", "grace@example.org|accepted", "alan@example.net|accepted", "reject-2@example.com|failed",
        ])
        #expect(try server.received().count == 3, "the Cc of a refused recipient got nothing either")
    }

    @Test func aBccHeaderIsRefused() throws {
        let dir = try TemporaryDirectory()
        let template = try dir.write("t.txt", "From: a@example.com\nBcc: {{ email }}\nSubject: x\n\nhi\n")
        let csv = try dir.write("l.csv", "email\na@example.com\n")
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", dir.path("b.sqlite")])
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", dir.path("b.sqlite")])
        #expect(check.status == 2)
        #expect(check.stderr.contains("Bcc"))
    }
}
