import Foundation
import Testing
import TestSupport

/// `--save-sent`: a copy of each accepted message in the sender's Sent folder (Dovecot),
/// appended once across crashes, byte for byte what the SMTP server received.
@Suite("Sent copies")
struct SentCopyTests {
    static let sender = "news@example.com"

    static func messageID(in message: Data) -> String? {
        let text = String(decoding: message, as: UTF8.self)
        guard let range = text.range(of: "\nMessage-ID: <", options: .caseInsensitive) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != ">" })
    }

    @Test func aKilledCampaignLeavesEachSentMessageInTheFolderOnce() throws {
        let imap = try IMAPTestServer(user: Self.sender)
        try imap.makeFolder("Sent")
        let smtp = try SMTPTestServer(arguments: ["--auth", "\(Self.sender):\(imap.password)"])
        let fixture = try TestCampaign(count: 200)
        let send = fixture.sendArguments + ["--smtp", smtp.url, "--user", Self.sender, "--password-env", "MAIL_PASSWORD",
                                            "--save-sent", "imap://127.0.0.1:\(imap.port)/Sent", "--rate", "60/s", "--connections", "2"]
        let environment = ["MAIL_PASSWORD": imap.password]
        var kills = 0
        for delay in [1.5, 1.2] {
            let run = try Command.startBroadside(send, environment: environment)
            Thread.sleep(forTimeInterval: delay)
            guard run.isRunning else { break }
            run.signal(SIGKILL)
            run.wait()
            kills += 1
        }
        #expect(kills == 2, "the kills landed mid-campaign")
        let resumed = try Command.broadside(["resume", "c", "--db", fixture.db, "--json"], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")

        let accepted = Set(try sqlite(fixture.db, "SELECT message_id FROM messages WHERE state = 'accepted'"))
        let unknown = try sqlite(fixture.db, "SELECT count(*) FROM messages WHERE state = 'unknown'")
        #expect(accepted.count + (Int(unknown.first ?? "") ?? 0) == 200)
        var received: [String: Data] = [:]
        for message in try smtp.received() {
            let data = Data(message.data.utf8)
            received[try #require(Self.messageID(in: data))] = data
        }
        var copies: [String: [Data]] = [:]
        for copy in try imap.messages(in: "Sent") { copies[Self.messageID(in: copy) ?? "none", default: []].append(copy) }
        for id in accepted {
            #expect(copies[id]?.count == 1, "\(id) is in the Sent folder \(copies[id]?.count ?? 0) times")
            // Byte for byte the message the SMTP server took (Dovecot stores it as given).
            #expect(copies[id]?.first == received[id], "\(id)'s copy differs from what was sent")
        }
        #expect(Set(copies.keys).isSubset(of: accepted), "only accepted messages have a copy")
        // Stored read, as sent mail is (libcurl's APPEND asks for \Seen): Dovecot's file names carry the flags (`…:2,S`).
        let folder = imap.maildir.appendingPathComponent(".Sent")
        let files = try ["new", "cur"].flatMap { try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent($0).path) }
        let unread = files.filter { !($0.split(separator: ":").last.map { $0.hasPrefix("2,") && $0.contains("S") } ?? false) }
        #expect(unread.isEmpty, "\(unread.count) of \(files.count) copies unread: \(unread.prefix(3))")
        #expect(try sqlite(fixture.db, "SELECT state, count(*) FROM sent_copies GROUP BY state") == ["appended|\(accepted.count)"])

        // The narrowest window: killed after an APPEND, before it was recorded. The next run
        // finds those copies in the folder by their Message-ID and appends none again.
        // (Its kept bytes are still there then: put them back as the crash would have left them.)
        for row in try sqlite(fixture.db, "SELECT m.id, m.message_id FROM sent_copies c JOIN messages m ON m.id = c.message_id WHERE m.id % 3 = 0") {
            let parts = row.split(separator: "|").map(String.init)
            try received[parts[1]]?.write(to: URL(fileURLWithPath: "\(fixture.db)-sent-1/\(parts[0]).eml"))
        }
        _ = try sqlite(fixture.db, "UPDATE sent_copies SET state = 'appending' WHERE message_id % 3 = 0")
        #expect(try Command.broadside(["resume", "c", "--db", fixture.db], environment: environment).status == 0)
        let again = try imap.messages(in: "Sent").compactMap(Self.messageID)
        #expect(again.count == accepted.count && Set(again) == accepted, "\(again.count) copies of \(accepted.count) messages")
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM sent_copies WHERE state = 'appending'") == ["0"])

        let left = (try? FileManager.default.contentsOfDirectory(atPath: "\(fixture.db)-sent-1")) ?? []
        #expect(left.filter { $0.hasSuffix(".eml") }.count == Int(unknown.first ?? "") ?? 0,
                "the kept bytes are removed once their copy is in the folder (an unknown message's stay)")
    }

    @Test func aFolderThatDoesNotExistStopsTheSendBeforeAnythingIsWritten() throws {
        let imap = try IMAPTestServer(user: Self.sender)
        let smtp = try SMTPTestServer()
        let fixture = try TestCampaign(count: 3)
        let sent = try fixture.send(["--smtp", smtp.url, "--user", Self.sender, "--password-env", "MAIL_PASSWORD",
                                     "--save-sent", "imap://127.0.0.1:\(imap.port)/Sent%20Items"], environment: ["MAIL_PASSWORD": imap.password])
        #expect(sent.status == 3, "\(sent.stderr)")
        #expect(sent.stderr.contains("cannot keep Sent copies in imap://127.0.0.1:\(imap.port)/Sent%20Items"), "\(sent.stderr)")
        #expect(try sqlite(fixture.db, "SELECT count(*) FROM campaigns") == ["0"])
        #expect(try smtp.received().isEmpty)
    }
}
