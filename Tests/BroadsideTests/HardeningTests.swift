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
        let process = Process()
        process.executableURL = Command.broadside
        process.arguments = ["retry", "c", "--deferred", "--db", fixture.db]
        try process.run()
        process.waitUntilExit()
        let resumed = Process()
        resumed.executableURL = Command.broadside
        resumed.arguments = ["resume", "c", "--db", fixture.db, "--reply-timeout", "3s"]
        resumed.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        resumed.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try resumed.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(resumed.processIdentifier, SIGTERM)
        let asked = Date()
        resumed.waitUntilExit()
        #expect(Date().timeIntervalSince(asked) < 15, "SIGTERM ended the run")
        #expect(resumed.terminationStatus == 130)
    }
}
