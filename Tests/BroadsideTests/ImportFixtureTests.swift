import Foundation
import Testing
import TestSupport

/// Real-world CSV quirks, each with the counts a careful import must report.
@Suite("Import fixtures")
struct ImportFixtureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var arguments: [String] = []
        var rows: Int
        var imported: Int
        var duplicates = 0
        var rejectedLines: [Int] = []
        var testDescription: String { file }
    }

    static let fixtures = Repository.root.appendingPathComponent("Tests/BroadsideTests/Fixtures")

    @Test(arguments: [
        Case(file: "excel-de-bom-semicolon.csv", rows: 4, imported: 4),
        Case(file: "google-sheets.csv", rows: 5, imported: 4, rejectedLines: [4]),
        Case(file: "outlook-contacts.csv", arguments: ["--encoding", "windows-1252"], rows: 3, imported: 2, rejectedLines: [4]),
        Case(file: "gb18030-chinese.csv", arguments: ["--encoding", "gb18030"], rows: 3, imported: 3),
        Case(file: "excel-unicode-text.txt", rows: 3, imported: 3),
        Case(file: "multiline-addresses.csv", rows: 4, imported: 3, rejectedLines: [7]),
        Case(file: "ragged.csv", rows: 4, imported: 2, rejectedLines: [3, 4]),
        Case(file: "duplicates-case.csv", rows: 5, imported: 2, duplicates: 3),
        Case(file: "idn.csv", rows: 4, imported: 3, duplicates: 1),
    ])
    func importsWithTheExpectedCounts(_ fixture: Case) throws {
        let dir = try TemporaryDirectory()
        let rejects = dir.path("rejects.csv")
        let result = try Command.broadside(["import", Self.fixtures.appendingPathComponent(fixture.file).path, "--list", "l",
                                            "--db", dir.path("b.sqlite"), "--json", "--rejects", rejects] + fixture.arguments)
        #expect(result.status == (fixture.rejectedLines.isEmpty ? 0 : 1), "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["rows"] as? Int == fixture.rows)
        #expect(summary["imported"] as? Int == fixture.imported)
        #expect(summary["duplicates"] as? Int == fixture.duplicates)
        #expect(summary["rejected"] as? Int == fixture.rejectedLines.count)
        let rejectedLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\r\n").dropFirst()
            .compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(rejectedLines == fixture.rejectedLines)
    }

    @Test func keepsChineseNamesFromGB18030Intact() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        try Command.broadsideSucceeding(["import", Self.fixtures.appendingPathComponent("gb18030-chinese.csv").path, "--list", "l", "--encoding", "gb18030", "--db", db])
        let fields = try sqlite(db, "SELECT m.fields FROM list_members m JOIN contacts c ON c.id = m.contact_id ORDER BY c.id")
        #expect(fields.count == 3)
        #expect(fields[0].contains("\"姓名\":\"王磊\""))
        #expect(fields[2].contains("\"城市\":\"广州\""))
    }

    @Test func aWindows1252FileWithoutEncodingNamesTheLineAndTheOption() throws {
        let dir = try TemporaryDirectory()
        let result = try Command.broadside(["import", Self.fixtures.appendingPathComponent("outlook-contacts.csv").path, "--list", "l", "--db", dir.path("b.sqlite")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 2"))
        #expect(result.stderr.contains("--encoding"))
    }

    @Test func sendsInternationalDomainsAsALabelsAndMarksSMTPUTF8() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        try Command.broadsideSucceeding(["import", Self.fixtures.appendingPathComponent("idn.csv").path, "--list", "l", "--db", db])
        let rows = try sqlite(db, "SELECT address, coalesce(smtp_address, address), coalesce(display_address, smtp_address, address), needs_smtputf8 FROM contacts ORDER BY id")
        #expect(rows == [
            "info@xn--bcher-kva.example|info@xn--bcher-kva.example|info@bücher.example|0",
            "用户@xn--fsqu00a.xn--fiqs8s|用户@xn--fsqu00a.xn--fiqs8s|用户@例子.中国|1",
            "kontakt@xn--mller-kva.de|kontakt@xn--mller-kva.de|kontakt@müller.de|0",
        ])
    }

    @Test func reimportingUpdatesChangedFields() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let first = try dir.write("a.csv", "email,plan\nada@example.com,free\ngrace@example.org,pro\n")
        let second = try dir.write("b.csv", "email,plan\nada@example.com,pro\ngrace@example.org,pro\nalan@example.net,team\n")
        try Command.broadsideSucceeding(["import", first, "--list", "l", "--db", db])
        let result = try Command.broadside(["import", second, "--list", "l", "--db", db, "--json"])
        #expect(result.stdout.contains("\"imported\":1"))
        #expect(result.stdout.contains("\"updated\":1"))
        #expect(result.stdout.contains("\"unchanged\":1"), "a row re-imported as it was is unchanged, not a duplicate")
        #expect(result.stdout.contains("\"duplicates\":0"))
        #expect(try sqlite(db, "SELECT m.fields FROM list_members m JOIN contacts c ON c.id = m.contact_id WHERE c.address = 'ada@example.com'") == [#"{"email":"ada@example.com","plan":"pro"}"#])
    }

    /// After a kill -9 at any moment, the list is either as it was or fully imported.
    @Test func anImportKilledAtAnyMomentLeavesTheListAsBeforeOrComplete() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let small = try dir.write("small.csv", "email\nfirst@example.com\nsecond@example.com\n")
        try Command.broadsideSucceeding(["import", small, "--list", "l", "--db", db])
        let big = dir.path("big.csv")
        let generate = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                       [Repository.root.appendingPathComponent("bench/generate-contacts.py").path, "60000", big])
        #expect(generate.status == 0)
        var outcomes: Set<Int> = []
        for delay in [0.05, 0.15, 0.3, 0.5, 0.8] {
            let process = try Command.startBroadside(["import", big, "--list", "l", "--db", db]).process
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let members = try #require(Int(try sqlite(db, "SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.name = 'l'").first ?? ""))
            #expect(members == 2 || members == 60_002, "after a kill at \(delay) s the list has \(members) members")
            outcomes.insert(members)
            #expect(try sqlite(db, "PRAGMA integrity_check") == ["ok"])
            if members == 60_002 { break }
        }
        #expect(outcomes.contains(2), "at least one kill landed mid-import")
        let finished = try Command.broadside(["import", big, "--list", "l", "--db", db])
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try sqlite(db, "SELECT count(*) FROM list_members") == ["60002"], "what the killed imports staged is gone")
        #expect(try sqlite(db, "PRAGMA journal_mode") == ["wal"], "an import (which writes with a rollback journal when it can) leaves the WAL on")
    }

    /// With another connection open, an import keeps the WAL, and does not wait for that connection.
    @Test func anImportBesideAnotherConnectionKeepsTheWAL() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let first = try dir.write("first.csv", "email\nfirst@example.com\n")
        try Command.broadsideSucceeding(["import", first, "--list", "l", "--db", db])
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        reader.arguments = ["-c", "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('SELECT count(*) FROM lists').fetchone()\nprint('open', flush=True)\ntime.sleep(60)", db]
        let output = Pipe()
        reader.standardOutput = output
        try reader.run()
        defer { reader.terminate() }
        _ = output.fileHandleForReading.availableData   // "open": the connection is there
        let second = try dir.write("second.csv", "email\nsecond@example.com\nthird@example.com\n")
        let started = Date()
        let result = try Command.broadside(["import", second, "--list", "m", "--db", db, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"imported\":2"))
        #expect(Date().timeIntervalSince(started) < 5, "the import did not wait out the other connection")
        #expect(try sqlite(db, "PRAGMA journal_mode") == ["wal"])
    }
}
