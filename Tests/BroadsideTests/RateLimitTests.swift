import Foundation
import Testing
import TestSupport

@Suite("Profiles and rate limits")
struct ProfileAndRateLimitTests {
    static let template = "From: News <news@example.com>\nSubject: Hi {{ name }}\n\nHello.\n"

    func list(_ dir: TemporaryDirectory, _ addresses: [String], db: String, name: String = "l") throws {
        let csv = try dir.write("\(name).csv", "email,name\n" + addresses.map { "\($0),x\n" }.joined())
        let result = try Command.broadside(["import", csv, "--list", name, "--db", db])
        guard result.status == 0 else { throw TestSupportError(result.stderr) }
    }

    /// Campaign "c" to `addresses` through the scripted server, with `limit` on `domain`
    /// (profile `relay`, `connections` connections); the send's result and the server.
    func sendWithDomainLimit(_ domain: String, _ limit: String, connections: Int, to addresses: [String],
                             in dir: TemporaryDirectory) throws -> (result: CommandResult, server: SMTPTestServer, db: String) {
        let server = try SMTPTestServer()
        let db = dir.path("b.sqlite")
        let config = try dir.write("broadside.yaml", """
            domain_limits:
              \(domain): \(limit)
            profiles:
              relay:
                smtp: \(server.url)
                connections: \(connections)
            """)
        let template = try dir.write("t.txt", Self.template)
        try list(dir, addresses, db: db)
        let result = try Command.broadside(["send", "--config", config, "--profile", "relay", "--template", template, "--list", "l",
                                            "--campaign", "c", "--db", db, "--json"])
        return (result, server, db)
    }

    @Test func aDailyCapCountsAcrossCampaignsFromTheDatabase() throws {
        let server = try SMTPTestServer()
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let config = try dir.write("broadside.yaml", """
            profiles:
              relay:
                smtp: \(server.url)
                connections: 2
                rate: [100/s, 5/day]
            """)
        let template = try dir.write("t.txt", Self.template)
        try list(dir, (1...8).map { "a\($0)@example.com" }, db: db, name: "first")
        try list(dir, (1...3).map { "b\($0)@example.com" }, db: db, name: "second")

        let first = try Command.broadside(["send", "--config", config, "--profile", "relay", "--template", template, "--list", "first",
                                           "--campaign", "one", "--db", db, "--json"])
        #expect(first.status == 0, "at a cap without --follow, send exits 0 with what is left: \(first.stderr)")
        #expect(first.stdout.contains("\"accepted\":5"))
        #expect(first.stdout.contains("sending goes on at"))

        // A new process and another campaign of the same profile: the cap still holds.
        let second = try Command.broadside(["send", "--config", config, "--profile", "relay", "--template", template, "--list", "second",
                                            "--campaign", "two", "--db", db, "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("\"accepted\":0"))
        #expect(try server.received().count == 5)
        // Said in words on a terminal: the cap is the profile's, and how much of it went out.
        let third = try Command.broadside(["send", "--config", config, "--profile", "relay", "--campaign", "two", "--db", db])
        #expect(third.stdout.contains("The cap is shared by every campaign sent with 'relay': 5 message(s) went out in its last 24 hours"), "\(third.stdout)")
        #expect(!third.stdout.contains("sends them now"), "\(third.stdout)")
        #expect(try sqlite(db, "SELECT count(*) FROM messages WHERE state = 'queued'") == ["6"])
    }

    @Test func aDomainLimitSpacesMessagesToThatDomainOnly() throws {
        let dir = try TemporaryDirectory()
        let (result, server, _) = try sendWithDomainLimit("slow.example", "4/s", connections: 4,
                                                          to: (1...9).map { "s\($0)@slow.example" } + (1...20).map { "f\($0)@fast.example" }, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try server.received()
        #expect(received.count == 29)
        let raw = try String(contentsOf: server.recordFile, encoding: .utf8)
        let times = raw.split(separator: "\n").compactMap { line -> (String, Double)? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let to = (object["rcpt_tos"] as? [String])?.first, let at = object["at"] as? Double else { return nil }
            return (to, at)
        }
        let slow = times.filter { $0.0.hasSuffix("@slow.example") }.map(\.1).sorted()
        // 9 messages at 4/s: at least 2 s from the first to the last.
        #expect((slow.last ?? 0) - (slow.first ?? 0) >= 1.9)
        let fast = times.filter { $0.0.hasSuffix("@fast.example") }.map(\.1).sorted()
        #expect((fast.last ?? 0) - (fast.first ?? 0) < 1.9, "other domains are not held back")
    }

    @Test func aDomainsDailyCapWaitsForThatDomainOnlyWhileTheRestGoesOut() throws {
        let dir = try TemporaryDirectory()
        let started = Date().timeIntervalSince1970
        let (result, server, db) = try sendWithDomainLimit("capped.example", "2/day", connections: 2,
                                                           to: (1...5).map { "c\($0)@capped.example" } + (1...20).map { "o\($0)@other.example" }, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try server.received().map { $0.rcpt_tos[0] }
        #expect(received.filter { $0.hasSuffix("@capped.example") }.count == 2, "the domain's cap, and not one more")
        #expect(received.filter { $0.hasSuffix("@other.example") }.count == 20, "every other recipient went out in the same run")
        // The rest of the capped domain waits for its cap, deferred without an attempt, and says why.
        let waiting = try sqlite(db, "SELECT state, attempts, next_attempt_at, reason FROM messages WHERE recipient LIKE '%@capped.example' AND state != 'accepted'")
        #expect(waiting.count == 3, "\(waiting)")
        for row in waiting {
            let parts = row.split(separator: "|").map(String.init)
            #expect(parts[0] == "deferred" && parts[1] == "0", "\(row)")
            #expect((Double(parts[2]) ?? 0) > started + 86_000, "due when the day's cap has room: \(row)")
            #expect(parts[3].contains("capped.example") && parts[3].contains("2/day"), "\(row)")
        }
        #expect(result.stdout.contains("\"deferred\":3"), "\(result.stdout)")
    }

    @Test func aPasswordInTheConfigurationIsRefused() throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("broadside.yaml", "profiles:\n  relay:\n    smtp: smtp://127.0.0.1:25\n    user: a\n    password: hunter2\n")
        let template = try dir.write("t.txt", Self.template)
        try list(dir, ["a@example.com"], db: dir.path("b.sqlite"))
        let result = try Command.broadside(["send", "--config", config, "--profile", "relay", "--template", template, "--list", "l",
                                            "--campaign", "c", "--db", dir.path("b.sqlite")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("passwords never live in files"))
    }

    @Test func anUnknownProfileListsTheKnownOnes() throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("broadside.yaml", "profiles:\n  relay:\n    smtp: smtp://127.0.0.1:25\n")
        let template = try dir.write("t.txt", Self.template)
        try list(dir, ["a@example.com"], db: dir.path("b.sqlite"))
        let result = try Command.broadside(["send", "--config", config, "--profile", "relya", "--template", template, "--list", "l",
                                            "--campaign", "c", "--db", dir.path("b.sqlite")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("relay"))
        #expect(result.stderr.contains("google-workspace"))
    }
}
