import Foundation
import Testing
import TestSupport

/// A campaign remembers a fingerprint of the BROADSIDE_SECRET its links and return paths
/// were signed with (never the secret): `serve` with another secret would answer 404 to
/// every unsubscribe of that campaign, so it refuses to start, naming it; and a resume with
/// another secret would sign its messages unlike the first ones, so it is refused too.
@Suite("The secret a campaign was signed with")
struct SecretFingerprintTests {
    static let first = ["BROADSIDE_SECRET": "the-first-secret-0123456789"]
    static let other = ["BROADSIDE_SECRET": "another-secret-9876543210"]

    static func sentWithLinks() throws -> (fixture: TestCampaign, server: SMTPTestServer) {
        let fixture = try TestCampaign(count: 4)
        let server = try SMTPTestServer()
        let sent = try fixture.send(["--smtp", server.url, "--unsubscribe-url", "https://news.example.com/u/", "--limit", "2"], environment: first)
        guard sent.status == 0 else { throw TestSupportError(sent.stderr) }
        return (fixture, server)
    }

    @Test func serveWithAnotherSecretRefusesToStartAndNamesTheCampaign() throws {
        let (fixture, _) = try Self.sentWithLinks()
        let settings = try sqlite(fixture.db, "SELECT settings FROM campaigns").joined()
        #expect(!settings.contains("the-first-secret"), "the secret itself is never stored")
        let arguments = ["serve", "--listen", "127.0.0.1:\(try freePort())", "--db", fixture.db]
        // (Run in the background first: a serve that does not refuse would serve for ever.)
        let serve = Process()
        serve.executableURL = Command.broadside
        serve.arguments = arguments
        serve.environment = ProcessInfo.processInfo.environment.merging(Self.other) { $1 }
        serve.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        serve.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try serve.run()
        let deadline = Date().addingTimeInterval(10)
        while serve.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let refusedInTime = !serve.isRunning
        if !refusedInTime { serve.terminate() }
        serve.waitUntilExit()
        #expect(refusedInTime && serve.terminationStatus == 3, "serve started with another secret")
        guard refusedInTime else { return }
        let refused = try Command.broadside(arguments, environment: Self.other)
        #expect(refused.stderr.contains("'c'") && refused.stderr.contains("BROADSIDE_SECRET"), "\(refused.stderr)")
    }

    @Test func resumeWithAnotherSecretIsRefusedAndChangesNothing() throws {
        let (fixture, server) = try Self.sentWithLinks()
        let before = try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state")
        let refused = try Command.broadside(["resume", "c", "--db", fixture.db], environment: Self.other)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("BROADSIDE_SECRET"), "\(refused.stderr)")
        #expect(try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state") == before)
        #expect(try server.received().count == 2)
        let resumed = try Command.broadside(["resume", "c", "--db", fixture.db], environment: Self.first)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try server.received().count == 4)
    }
}
