import Foundation
import Testing
import TestSupport

/// Sending as a mailbox that signs in with OAuth 2 (XOAUTH2): every new connection asks
/// for a token, the token command is run again when its token expires, and a token the
/// server refuses is renewed once before anything else happens. Against the scriptable
/// SMTP server, which accepts only tokens its token file lists as currently valid.
@Suite("OAuth 2 sign-in")
struct OAuthTests {
    /// A token command the way a user writes one around their identity provider: each run
    /// mints a token valid for `lifetime` seconds (the server's list is the introspection),
    /// prints it as token JSON and counts its runs.
    static func tokenCommand(in dir: TemporaryDirectory, lifetime: Double, valid: Bool = true) throws -> (command: String, tokens: String, runs: String) {
        let tokens = dir.path("valid-tokens"), runs = dir.path("runs")
        let script = """
            import json, secrets, sys, time
            token = "tok-" + secrets.token_hex(16)
            if \(valid ? "True" : "False"):
                open(sys.argv[1], "a").write("%s %f\\n" % (token, time.time() + \(lifetime)))
            open(sys.argv[2], "a").write(token + "\\n")
            print(json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": \(lifetime)}))
            """
        let path = try dir.write("token.py", script)
        return ("/usr/bin/python3 \(path) \(tokens) \(runs)", tokens, runs)
    }

    @Test func aCampaignLongerThanThreeTokenLifetimesSendsEveryMessage() throws {
        let fixture = try TestCampaign(count: 60)
        let (command, tokens, runs) = try Self.tokenCommand(in: fixture.dir, lifetime: 3)
        let server = try SMTPTestServer(arguments: ["--xoauth2-tokens", tokens])
        let sent = try fixture.send(["--smtp", server.url, "--user", "office@example.com", "--oauth2-token-command", command,
                                     "--rate", "5/s", "--connections", "2", "--messages-per-connection", "5"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(try server.received().count == 60)
        #expect(try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state") == ["accepted|60"])
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM events WHERE state IN ('deferred', 'failed')") == ["0"])
        let minted = try String(contentsOfFile: runs, encoding: .utf8).split(separator: "\n").map(String.init)
        // 12 s of sending, a new connection every 2 s, tokens of 3 s renewed only as they run out.
        #expect(minted.count >= 3, "the token was renewed as it expired: \(minted.count) tokens over 12 s of 3 s tokens")
        #expect(sent.stderr.contains("the OAuth 2 token was renewed \(minted.count - 1) time"), "\(sent.stderr)")
        // Tokens are secrets: none in the database, the output or the logs.
        let database = try Data(contentsOf: URL(fileURLWithPath: fixture.db)) + ((try? Data(contentsOf: URL(fileURLWithPath: fixture.db + "-wal"))) ?? Data())
        for token in minted {
            #expect(database.range(of: Data(token.utf8)) == nil, "a token is in the database")
            #expect(!sent.stdout.contains(token) && !sent.stderr.contains(token))
        }
    }

    /// A token the server refuses (revoked, or the provider's clock is wrong): renewed once,
    /// refused again, the run pauses with exit 3 and no message is failed or deferred for it.
    @Test func aRefusedTokenPausesTheRunWithoutFailingAMessage() throws {
        let fixture = try TestCampaign(count: 5)
        let (command, tokens, runs) = try Self.tokenCommand(in: fixture.dir, lifetime: 60, valid: false)
        let server = try SMTPTestServer(arguments: ["--xoauth2-tokens", tokens])
        let sent = try fixture.send(["--smtp", server.url, "--user", "office@example.com", "--oauth2-token-command", command])
        #expect(sent.status == 3, "\(sent.stdout)\(sent.stderr)")
        #expect(try server.received().isEmpty)
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM messages WHERE state IN ('failed', 'deferred', 'unknown')") == ["0"])
        #expect(try String(contentsOfFile: runs, encoding: .utf8).split(separator: "\n").count == 2, "one token, and one renewal after the refusal")
    }
}
