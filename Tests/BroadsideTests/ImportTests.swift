import Foundation
import Testing
import TestSupport

@Suite("Import")
struct ImportTests {
    @Test func rejectsBadRowsWithTheirLineNumbersAndKeepsTheRest() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "Email,Name\nada@example.com,Ada\nnot-an-address,Bob\n\"multi\nline\"@example.com,Eve\ncarol@example.com\nADA@Example.com,Ada again\ndan@example.com,Dan\n")
        let result = try Command.broadside(["import", csv, "--list", "l", "--db", db, "--json", "--rejects", dir.path("rejects.csv")])
        #expect(result.status == 1, "rejected rows make exit 1")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["rows"] as? Int == 6)
        #expect(summary["imported"] as? Int == 2)
        #expect(summary["duplicates"] as? Int == 1)
        #expect(summary["rejected"] as? Int == 3)
        let rejects = try String(contentsOfFile: dir.path("rejects.csv"), encoding: .utf8)
        #expect(rejects.contains("\n3,"))
        #expect(rejects.contains("\n4,"))
        #expect(rejects.contains("\n6,"))
        #expect(rejects.contains("has 1 field; the header has 2"))
    }

    /// An import that refuses (no address column) or fails part-way (an unterminated quote
    /// after some rejected rows) imports nothing, and leaves the rejects file as it was: a
    /// file there before is neither emptied nor replaced by rejects of rows never imported.
    @Test func anImportThatImportsNothingLeavesTheRejectsFileAsItWas() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let rejects = dir.path("rejects.csv")
        let noAddress = try dir.write("names.csv", "name,city\nAda,London\n")
        let refused = try Command.broadside(["import", noAddress, "--list", "l", "--db", db, "--rejects", rejects])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: rejects), "a refused import wrote \(rejects)")

        try Data("line,reason,row\r\n7,kept from last week,x\r\n".utf8).write(to: URL(fileURLWithPath: rejects))
        let broken = try dir.write("broken.csv", "email,name\nada@example.com,Ada\nnot-an-address,Bob\n\"eve@example.com,Eve\n")
        let failed = try Command.broadside(["import", broken, "--list", "l", "--db", db, "--rejects", rejects])
        #expect(failed.status == 2, "\(failed.stderr)")
        #expect(try String(contentsOfFile: rejects, encoding: .utf8) == "line,reason,row\r\n7,kept from last week,x\r\n")
        #expect(try sqlite(db, "SELECT count(*) FROM list_members") == ["0"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains("rejects") } == ["rejects.csv"],
                "no partial file is left beside it")

        // A complete import replaces it with its own rejects.
        let fine = try dir.write("fine.csv", "email,name\nada@example.com,Ada\nnot-an-address,Bob\n")
        #expect(try Command.broadside(["import", fine, "--list", "l", "--db", db, "--rejects", rejects]).status == 1)
        let written = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(written.hasPrefix("line,reason,row\r\n3,") && !written.contains("last week"), "\(written)")
    }

    /// The import writes many rows with one statement; among them new addresses, addresses
    /// other lists hold, repeats (within one statement's rows and across them, in other
    /// capitals) and people who asked to be forgotten while suppressed. Each member must be
    /// linked to its own contact, the first row of an address must win, and a forgotten
    /// person must be suppressed again wherever their row falls.
    @Test func rowsWrittenTogetherKeepEachContactAndTheFirstRowOfAnAddress() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let known = (0..<10).map { "known\($0)@example.com" }
        try Command.broadsideSucceeding(["import", try dir.write("old.csv", (["email,name"] + (known + ["gone1@example.com", "gone2@example.com"]).map { "\($0),old" })
            .joined(separator: "\n")), "--list", "old", "--db", db])
        for gone in ["gone1@example.com", "gone2@example.com"] {
            try Command.broadsideSucceeding(["suppress", "add", gone, "--db", db])
            try Command.broadsideSucceeding(["forget", gone, "--db", db])
        }
        // 200 rows: the import writes 64 at a time, so rows 0-63, 64-127, 128-191 and 192-199 go together.
        var rows = (0..<200).map { "new\($0)@example.com" }
        rows[10] = known[1]                  // known, among new ones
        rows[20] = "gone1@example.com"       // forgotten, among known and repeated ones
        rows[30] = "new0@example.com"        // a repeat within the same statement's rows
        rows[40] = "NEW1@Example.COM"        // the same, in other capitals
        rows[70] = "gone2@example.com"       // forgotten, among only new ones
        rows[130] = "new2@example.com"       // a repeat of an earlier statement's row
        rows[131] = known[2]
        rows[132] = known[2]                 // a known address twice
        rows[199] = "Capitals@Example.COM"   // a new address whose SMTP form keeps its capitals
        let csv = try dir.write("new.csv", (["email,row"] + rows.enumerated().map { "\($0.element),\($0.offset)" }).joined(separator: "\n") + "\n")
        let result = try Command.broadside(["import", csv, "--list", "new", "--db", db, "--json"])
        #expect(result.status == 0, "\(result.stderr)")

        var firstRow: [String: Int] = [:]
        for (index, address) in rows.enumerated() where firstRow[address.lowercased()] == nil { firstRow[address.lowercased()] = index }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["rows"] as? Int == 200)
        #expect(summary["imported"] as? Int == firstRow.count)
        #expect(summary["duplicates"] as? Int == 200 - firstRow.count)
        // Each member: its contact's address is the one its own row holds, from the first row of that address.
        let members = try sqlite(db, """
            SELECT c.address, json_extract(m.fields, '$.email'), json_extract(m.fields, '$.row'), m.line
            FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id WHERE l.name = 'new' ORDER BY m.line
            """).map { $0.split(separator: "|").map(String.init) }
        #expect(members.count == firstRow.count)
        for member in members {
            #expect(member[0] == member[1].lowercased(), "\(member)")
            #expect(Int(member[2]) == firstRow[member[0]], "\(member): the first row of \(member[0]) wins")
            #expect(Int(member[3]) == (Int(member[2]) ?? -9) + 2, "\(member): the line of that row")
        }
        // The old list's 12 contacts (the two forgotten ones kept anonymised) and one for each new address.
        let newAddresses = Set(firstRow.keys).subtracting(known)
        #expect(try sqlite(db, "SELECT count(*) FROM contacts") == ["\(12 + newAddresses.count)"], "known contacts are not made twice")
        #expect(try sqlite(db, "SELECT address, source FROM suppressions ORDER BY address") == ["gone1@example.com|forget", "gone2@example.com|forget"])
        #expect(try sqlite(db, "SELECT smtp_address FROM contacts WHERE address = 'capitals@example.com'") == ["Capitals@example.com"])
    }

    @Test func anUnterminatedQuoteNamesItsLineAndImportsNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,name\na@example.com,A\nb@example.com,\"B\nc@example.com,C\n")
        let result = try Command.broadside(["import", csv, "--list", "l", "--db", db])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 3"))
        #expect(result.stderr.contains("never closed"))
        #expect(try sqlite(db, "SELECT count(*) FROM list_members") == ["0"])
    }

    @Test func readsBOMSemicolonsAndUTF16() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let excel = try dir.write("excel.csv", bytes: [0xEF, 0xBB, 0xBF] + Array("E-mail;Name\r\nzoe@example.de;Zoë\r\n".utf8))
        let r1 = try Command.broadside(["import", excel, "--list", "eu", "--db", db, "--json"])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.stdout.contains("\"imported\":1"))
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in "email\tname\r\nwang@example.cn\t王磊\r\n".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let unicodeText = try dir.write("unicode.txt", bytes: utf16)
        let r2 = try Command.broadside(["import", unicodeText, "--list", "cn", "--db", db, "--json"])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(try sqlite(db, "SELECT m.fields FROM list_members m JOIN contacts c ON c.id = m.contact_id WHERE c.address = 'wang@example.cn'").first?.contains("王磊") == true)
    }

    @Test func invalidUTF8SuggestsAnEncoding() throws {
        let dir = try TemporaryDirectory()
        let gbk = try dir.write("gbk.csv", bytes: Array("email,name\nwang@example.cn,".utf8) + [0xCD, 0xF5, 0xC0, 0xDA] + [0x0A])
        let result = try Command.broadside(["import", gbk, "--list", "l", "--db", dir.path("b.sqlite")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 2"))
        #expect(result.stderr.contains("--encoding"))
        let fixed = try Command.broadside(["import", gbk, "--list", "l", "--encoding", "gbk", "--db", dir.path("b.sqlite"), "--json"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
    }

    @Test func suppressedAddressesAreImportedButSkippedByCampaigns() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        _ = try Command.broadside(["suppress", "add", "Bob@Example.com", "--reason", "asked", "--db", db])
        let csv = try dir.write("l.csv", "email\nada@example.com\nbob@example.com\n")
        let result = try Command.broadside(["import", csv, "--list", "l", "--db", db, "--json"])
        #expect(result.stdout.contains("\"suppressed\":1"))
        let template = try dir.write("t.txt", "From: a@example.com\nSubject: x\n\nhi\n")
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--dry-run", "--outbox", dir.path("o"), "--db", db, "--json"])
        #expect(sent.stdout.contains("\"skipped\":1"))
        #expect(sent.stdout.contains("\"accepted\":1"))
    }
}

@Suite("Check and templates through the command")
struct CheckTests {
    @Test func aMisspelledFieldIsRefusedBeforeAnythingIsSent() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,first_name\nada@example.com,Ada\n")
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", db])
        let template = try dir.write("t.txt", "From: a@example.com\nSubject: Hi {{ frist_name }}\n\nhi\n")
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db])
        #expect(check.status == 2)
        #expect(check.stderr.contains("t.txt:2:"))
        #expect(check.stderr.contains("email, first_name"))
        let send = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--dry-run", "--outbox", dir.path("o"), "--db", db])
        #expect(send.status == 2)
        #expect(try sqlite(db, "SELECT count(*) FROM campaigns") == ["0"])
    }

    @Test func checkReportsEmptyValuesAndMissingAttachmentsByRow() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,first_name,invoice\nada@example.com,Ada,a.pdf\nbob@example.com,,b.pdf\ncarol@example.com,Carol,../../etc/passwd\n")
        try Command.broadsideSucceeding(["import", csv, "--list", "l", "--db", db])
        try dir.write("a.pdf", "%PDF-1.4")
        let template = try dir.write("t.txt", "From: a@example.com\nSubject: Hi {{ first_name }}\nAttachment: {{ invoice }}\n\nhi\n")
        let check = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db, "--json"])
        #expect(check.status == 2)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        let problems = try #require(result["problems"] as? [[String: Any]])
        let byLine = Dictionary(grouping: problems, by: { $0["line"] as? Int ?? 0 })
        #expect(byLine[2] == nil)
        #expect(byLine[3]?.contains { ($0["problem"] as? String)?.contains("'first_name' is empty") == true } == true)
        #expect(byLine[3]?.contains { ($0["problem"] as? String)?.contains("b.pdf") == true } == true)
        #expect(byLine[4]?.contains { ($0["problem"] as? String)?.contains("outside the template's folder") == true } == true)
    }
}

@Suite("Suppression list")
struct SuppressionTests {
    @Test func addImportListAndRemoveWithReasonAndSource() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        #expect(try Command.broadside(["suppress", "add", "Ada@Example.com", "--reason", "asked by phone", "--db", db]).status == 0)
        let csv = try dir.write("s.csv", "email,reason\nbob@example.com,complained\ncarol@example.com,\nnot-an-address,x\n")
        let imported = try Command.broadside(["suppress", "import", csv, "--db", db])
        #expect(imported.status == 1, "the invalid row makes exit 1")
        #expect(imported.stderr.contains("line 4"))
        let list = try Command.broadside(["suppress", "list", "--json", "--db", db])
        let entries = try #require((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["suppressions"] as? [[String: Any]])
        #expect(entries.map { $0["address"] as? String } == ["ada@example.com", "bob@example.com", "carol@example.com"])
        #expect(entries.map { $0["reason"] as? String } == ["asked by phone", "complained", "imported"])
        #expect(entries.map { $0["source"] as? String } == ["manual", "import", "import"])
        #expect(try Command.broadside(["suppress", "remove", "BOB@example.com", "--db", db]).status == 0)
        #expect(try sqlite(db, "SELECT address FROM suppressions ORDER BY address") == ["ada@example.com", "carol@example.com"])
    }
}

@Suite("init")
struct InitTests {
    @Test func writesAStarterThatWorksAndNeverOverwrites() throws {
        let dir = try TemporaryDirectory()
        let first = try Command.broadside(["init", dir.path("project")])
        #expect(first.status == 0, "\(first.stderr)")
        let project = dir.url.appendingPathComponent("project")
        let db = dir.path("b.sqlite")
        #expect(try Command.broadside(["import", project.appendingPathComponent("contacts.csv").path, "--list", "l", "--db", db]).status == 0)
        let check = try Command.broadside(["check", "--template", project.appendingPathComponent("template.txt").path, "--list", "l", "--db", db,
                                           "--config", project.appendingPathComponent("broadside.yaml").path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        try Data("mine".utf8).write(to: project.appendingPathComponent("template.txt"))
        _ = try Command.broadside(["init", project.path])
        #expect(try String(contentsOf: project.appendingPathComponent("template.txt"), encoding: .utf8) == "mine")
    }

    /// A long import writes in short transactions: another writer (here `suppress add`, as
    /// a send or an unsubscribe would) waits a moment, not for the whole import.
    @Test func aLongImportLetsOtherWritersIn() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let small = try dir.write("small.csv", "email\nfirst@example.com\n")
        #expect(try Command.broadside(["import", small, "--list", "other", "--db", db]).status == 0)
        let big = dir.path("big.csv")
        #expect(try Command.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                [Repository.root.appendingPathComponent("bench/generate-contacts.py").path, "400000", big]).status == 0)
        let importing = try Command.startBroadside(["import", big, "--list", "big", "--db", db]).process
        Thread.sleep(forTimeInterval: 1.5)
        var landedDuringImport = false
        for i in 1...3 {
            let added = try Command.broadside(["suppress", "add", "late\(i)@example.com", "--db", db])
            #expect(added.status == 0, "a write is not locked out by the import: \(added.stderr)")
            if i == 1 { landedDuringImport = importing.isRunning }
        }
        #expect(landedDuringImport, "the first write landed while the import ran")
        importing.waitUntilExit()
        #expect(importing.terminationStatus == 0)
        #expect(try sqlite(db, "SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.name = 'big'") == ["400000"])
        #expect(try sqlite(db, "SELECT count(*) FROM suppressions") == ["3"])
    }

    /// The import's pages are copied from the WAL into the database file while it writes,
    /// and the WAL starts again once it is long: it never holds the whole import (about
    /// 300 bytes a row, 120 MB here).
    @Test func aLongImportKeepsTheWALShort() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let big = dir.path("big.csv")
        #expect(try Command.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                [Repository.root.appendingPathComponent("bench/generate-contacts.py").path, "400000", big]).status == 0)
        let importing = try Command.startBroadside(["import", big, "--list", "big", "--db", db]).process
        var longest = 0
        while importing.isRunning {
            longest = max(longest, (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0)
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(importing.terminationStatus == 0)
        #expect(try sqlite(db, "SELECT count(*) FROM list_members") == ["400000"])
        #expect(longest > 0, "the WAL was seen")
        #expect(longest < 64 << 20, "the WAL grew to \(longest >> 20) MB")
    }

    /// On a terminal a long import and a long check show how far they are, how fast and how
    /// long they still need; with `--json`, or when standard error is not a terminal, nothing.
    @Test func longImportsAndChecksShowTheirProgressOnATerminalOnly() throws {
        let dir = try TemporaryDirectory()
        let big = dir.path("big.csv")
        #expect(try Command.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                [Repository.root.appendingPathComponent("bench/generate-contacts.py").path, "30000", big]).status == 0)
        let shown = try Command.broadsideOnATerminal(["import", big, "--list", "a", "--db", dir.path("a.sqlite")])
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("10240 rows") && shown.stdout.contains("% of the file") && shown.stdout.contains("rows/s  ETA 0:"),
                "\(shown.stdout)")
        #expect(shown.stdout.contains("30000 imported"))
        let json = try Command.broadsideOnATerminal(["import", big, "--list", "b", "--db", dir.path("b.sqlite"), "--json"])
        #expect(json.status == 0 && !json.stdout.contains("ETA") && json.stdout.contains("\"imported\":30000"), "\(json.stdout)")
        let piped = try Command.broadside(["import", big, "--list", "c", "--db", dir.path("c.sqlite")])
        #expect(piped.status == 0 && !piped.stderr.contains("ETA") && !piped.stdout.contains("ETA"))

        let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hello {{ first_name }}\n\nDear {{ first_name }} of {{ city }},\n")
        let checked = try Command.broadsideOnATerminal(["check", "--template", template, "--list", "a", "--db", dir.path("a.sqlite")])
        #expect(checked.status == 0, "\(checked.stdout)")
        #expect(checked.stdout.contains("2048/30000 messages checked") && checked.stdout.contains("/s  ETA 0:"), "\(checked.stdout)")
        let checkedPiped = try Command.broadside(["check", "--template", template, "--list", "a", "--db", dir.path("a.sqlite")])
        #expect(checkedPiped.status == 0 && !checkedPiped.stderr.contains("ETA"), "\(checkedPiped.stderr)")
    }

    /// UTF-16 without a byte-order mark gets the encoding hint, not columns named "e m a i l".
    @Test func utf16WithoutAByteOrderMarkGetsTheEncodingHint() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let text = "email,name\r\nada@example.com,Ada\r\n"
        let little = try dir.write("le.csv", bytes: text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let result = try Command.broadside(["import", little, "--list", "l", "--db", db])
        #expect(result.status == 2)
        #expect(result.stderr.contains("UTF-16LE without a byte-order mark") && result.stderr.contains("--encoding utf-16le"), "\(result.stderr)")
        let imported = try Command.broadside(["import", little, "--list", "l", "--encoding", "utf-16le", "--db", db, "--json"])
        #expect(imported.stdout.contains("\"imported\":1"), "\(imported.stdout) \(imported.stderr)")
    }

    /// A quote that ends a quoted field early is a rejected row with its line, not a silent rewrite.
    @Test func aStrayQuoteIsARejectedRowNotASilentRewrite() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let csv = try dir.write("l.csv", "email,name\nbob@example.com,\"Bob \"the builder\"\"\nada@example.com,\"Ada \"\"Countess\"\" Lovelace\"\n")
        let result = try Command.broadside(["import", csv, "--list", "l", "--db", db, "--json"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("\"rejected\":1") && result.stdout.contains("\"imported\":1"), "\(result.stdout)")
        let shown = try Command.broadside(["import", csv, "--list", "m", "--db", db])
        #expect(shown.stderr.contains("line 2: a quote ends a quoted field"), "\(shown.stderr)")
        #expect(try sqlite(db, "SELECT m.fields FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.name = 'l'")
                == [#"{"email":"ada@example.com","name":"Ada \"Countess\" Lovelace"}"#])
    }
}
