import Foundation
import Testing
import TestSupport

/// What a fault-injection run broke, each reproduced against real servers and files.
@Suite("Hardening")
struct HardeningTests {
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Command.broadside
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    /// The same database file through a symbolic link is the same campaign: one lock,
    /// one in-flight log. A second run through the link is refused while the first
    /// sends, and after a kill -9 the run through the link recovers what the first left.
    @Test func aSymbolicLinkToTheDatabaseSharesItsLockAndItsInFlightLog() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 3000)
        let link = fixture.dir.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fixture.db)

        let first = try start(fixture.sendArguments + ["--smtp", server.url, "--connections", "8"])
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
