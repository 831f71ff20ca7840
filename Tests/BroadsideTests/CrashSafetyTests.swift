import Foundation
import Testing
import TestSupport

/// No mail lost, none sent twice: kills, interrupts and pauses against a real server.
@Suite("Crash safety")
struct CrashSafetyTests {
    func count(_ db: String, _ state: String) throws -> Int {
        Int(try sqlite(db, "SELECT count(*) FROM messages WHERE state = '\(state)'").first ?? "") ?? -1
    }

    @Test func killedAtRandomMomentsEveryRecipientGetsExactlyOneMessage() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 3000)
        let db = fixture.db
        defer { withExtendedLifetime(fixture) {} }
        let send = fixture.sendArguments + ["--smtp", server.url, "--connections", "8"]
        var unknownBefore = 0
        var kills = 0
        for delay in [0.45, 0.35, 0.3, 0.5] {
            let process = try Command.startBroadside(send).process
            Thread.sleep(forTimeInterval: delay)
            guard process.isRunning else { break }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
            // The next run recovers (claimed back to the queue, awaiting ones to unknown); count after it starts.
            _ = try Command.broadside(["campaigns", "--db", db])
            let recovered = try Command.broadside(send + ["--limit", "1"])
            #expect(recovered.status == 0 || recovered.status == 1, "\(recovered.stderr)")
            let unknown = try count(db, "unknown")
            #expect(unknown - unknownBefore <= 8, "a kill left \(unknown - unknownBefore) messages unknown; at most one per connection")
            unknownBefore = unknown
        }
        #expect(kills >= 2, "the kills must land mid-campaign")
        let finished = try Command.broadside(send)
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try count(db, "accepted") + count(db, "unknown") == 3000)

        var received: [String: Int] = [:]
        for message in try server.received() { received[message.rcpt_tos[0], default: 0] += 1 }
        let states = Dictionary(uniqueKeysWithValues: try sqlite(db, "SELECT recipient, state FROM messages").map {
            let parts = $0.split(separator: "|").map(String.init)
            return (parts[0], parts[1])
        })
        for (recipient, state) in states {
            let times = received[recipient] ?? 0
            if state == "accepted" {
                #expect(times == 1, "\(recipient) was accepted and received \(times) times")
            } else {
                #expect(times <= 1, "\(recipient) (\(state)) was received \(times) times")
            }
        }
        #expect(received.values.allSatisfy { $0 == 1 }, "no recipient received a message twice")
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalPausesCleanlyAndResumeFinishesExactlyOnce(signal: Int32) throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 400)
        let db = fixture.db
        defer { withExtendedLifetime(fixture) {} }
        let run = try Command.startBroadside(fixture.sendArguments + ["--smtp", server.url, "--rate", "200/s"], capturingOutput: true)
        let process = run.process
        Thread.sleep(forTimeInterval: 1.0)
        kill(process.processIdentifier, signal)
        let printed = run.readOutput()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(printed.contains("interrupted"))
        // A clean pause waits for the replies of what is on the wire: nothing is left claimed,
        // nothing unknown, and the in-flight log is gone (nothing for a next run to recover).
        #expect(try count(db, "claimed") == 0)
        #expect(try count(db, "unknown") == 0)
        let logs = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.url.path).filter { $0.contains("-inflight-") }
        #expect(logs.isEmpty, "\(logs)")
        #expect(try sqlite(db, "SELECT status FROM campaigns") == ["paused"])
        let sentBefore = try count(db, "accepted")
        #expect(sentBefore > 0 && sentBefore < 400)

        let resumed = try Command.broadside(["resume", "c", "--rate", "100000/s", "--db", db])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try count(db, "accepted") == 400)
        let recipients = try server.received().map { $0.rcpt_tos[0] }
        #expect(recipients.count == 400)
        #expect(Set(recipients).count == 400)
    }

    /// Slow enough that the claimed messages waiting for a slot fill the engine's feed: the pause must not wait for them.
    @Test func pauseFromAnotherTerminalStopsARunningSend() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 2000)
        let db = fixture.db
        defer { withExtendedLifetime(fixture) {} }
        let process = try Command.startBroadside(fixture.sendArguments + ["--smtp", server.url, "--rate", "20/s"]).process
        Thread.sleep(forTimeInterval: 1.0)
        let paused = try Command.broadside(["pause", "c", "--db", db])
        #expect(paused.status == 0)
        let asked = Date()
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(asked) < 3, "the send stops within moments")
        #expect(process.terminationStatus == 130)
        #expect(try count(db, "claimed") == 0)
        #expect(try count(db, "accepted") < 100)
        #expect(try count(db, "queued") + count(db, "accepted") == 2000)
        #expect(try sqlite(db, "SELECT status FROM campaigns") == ["paused"])
    }
}
