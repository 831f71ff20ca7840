import Delivery
import Foundation
import Store
import Testing
import TestSupport
@testable import Engine

/// The in-flight log: what a send had on the wire when it died, and how the next run uses it.
@Suite("In-flight log")
struct InFlightLogTests {
    @Test func whatARunLeftIsReadBackByTheNext() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("b.sqlite-inflight-1")
        let longReply = "250 2.0.0 " + String(repeating: "é", count: 600)
        let accepted = AttemptResult(message: 11, state: .accepted, at: 5, smtpCode: 250, enhancedStatus: "2.0.0", reply: longReply, connection: 2,
                                     relay: String(repeating: "r", count: 60), replySeconds: 0.25)   // the longest relay name a profile may give
        let deferred = AttemptResult(message: 12, state: .deferred, at: 6, nextAttemptAt: 306, enhancedStatus: "", reply: "",
                                     reason: "network-error", connection: 1)   // empty texts stay empty, not nil
        do {
            let log = try InFlightLog(path: path)
            #expect(log.leftOver.isEmpty)
            try log.start(connections: 2)
            log.awaitingReply(connection: 1, slot: 0, message: 10, attempt: 1)
            log.awaitingReply(connection: 2, slot: InFlightLog.slotsPerConnection - 1, message: 11, attempt: 2)
            log.finished(connection: 2, slot: InFlightLog.slotsPerConnection - 1, attempt: 2, result: accepted)
            log.finished(connection: 1, slot: 1, attempt: 1, result: deferred)   // lost before DATA ended: never awaiting
            #expect(throws: EngineError.self, "a second send of the campaign is refused while one runs") { try InFlightLog(path: path) }
            // Dropped without remove(): as after a crash.
        }
        do {
            let reopened = try InFlightLog(path: path)
            let left = reopened.leftOver.sorted { $0.message < $1.message }
            #expect(left.map(\.message) == [10, 11, 12])
            #expect(left.first == InFlightAttempt(message: 10, attempt: 1, connection: 1, result: nil))
            let reply = try #require(left[1].result?.reply)
            #expect(reply.count < longReply.count && longReply.hasPrefix(reply), "cut to fit the slot, on a character boundary")
            var expected = accepted
            expected.reply = reply
            #expect(left[1] == InFlightAttempt(message: 11, attempt: 2, connection: 2, result: expected))
            #expect(left[2] == InFlightAttempt(message: 12, attempt: 1, connection: 1, result: deferred))
            try reopened.start(connections: 2)
        }
        #expect(try InFlightLog(path: path).leftOver.isEmpty, "a run starts from an empty log")
    }

    @Test func theNextRunRecordsWhatTheLogKnewAndNeverResendsWhatReachedTheEndOfData() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign(count: 5)
        let db = campaign.db
        let first = try campaign.send(["--smtp", server.url, "--limit", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let sent = try server.received().map { $0.rcpt_tos[0] }
        let ids = Dictionary(uniqueKeysWithValues: try sqlite(db, "SELECT recipient, id FROM messages WHERE state = 'queued' ORDER BY recipient").map {
            let parts = $0.split(separator: "|")
            return (String(parts[0]), Int64(parts[1])!)
        })
        let rest = ids.keys.sorted()
        #expect(sent.count == 1 && rest.count == 4)

        // As a run that died would leave them: the reply to rest[0] had come (the database
        // did not have it yet), rest[1] had its final dot sent, rest[2] was only claimed.
        _ = try sqlite(db, "UPDATE messages SET state = 'claimed' WHERE recipient IN ('\(rest[0])', '\(rest[1])', '\(rest[2])')")
        let campaignID = try #require(Int64(try sqlite(db, "SELECT id FROM campaigns").first ?? ""))
        let logPath = InFlightLog.path(database: db, campaign: campaignID)
        do {
            let log = try InFlightLog(path: logPath)
            try log.start(connections: 2)
            let delivered = ids[rest[0]]!
            log.awaitingReply(connection: 1, slot: 0, message: delivered, attempt: 1)
            log.finished(connection: 1, slot: 0, attempt: 1, result: AttemptResult(message: delivered, state: .accepted, at: 100, smtpCode: 250,
                                                                                   enhancedStatus: "2.0.0", reply: "250 2.0.0 queued as LOGGED", connection: 1))
            log.awaitingReply(connection: 2, slot: 0, message: ids[rest[1]]!, attempt: 1)
        }

        let resumed = try campaign.send(["--smtp", server.url])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try sqlite(db, "SELECT state, reply FROM messages WHERE recipient = '\(rest[0])'") == ["accepted|250 2.0.0 queued as LOGGED"])
        #expect(try sqlite(db, "SELECT state, attempts FROM messages WHERE recipient = '\(rest[1])'") == ["unknown|1"])
        #expect(try sqlite(db, "SELECT count(*) FROM messages WHERE state = 'accepted'") == ["4"])
        #expect(try server.received().map { $0.rcpt_tos[0] }.sorted() == (sent + [rest[2], rest[3]]).sorted(),
                "sent: the first run's message and the two that never reached the end of DATA")
        #expect(try sqlite(db, "SELECT count(*) FROM events WHERE reply = '250 2.0.0 queued as LOGGED'") == ["1"])
        #expect(!FileManager.default.fileExists(atPath: logPath), "a run that finished removes its log")
    }
}
