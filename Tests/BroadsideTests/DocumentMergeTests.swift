import Foundation
import Testing
import TestSupport

/// Mail merge of documents (`broadside merge`): Word and OpenDocument templates as their
/// programs write them, read back with independent readers (python3-docx, Python's zipfile,
/// pdftotext), never with Broadside's own.
@Suite("Documents: merge")
struct DocumentMergeTests {
    static let python = URL(fileURLWithPath: "/usr/bin/python3")
    static let list = """
        email,first_name,last_name,customer_id,city,plan,vip,items,address,joined,balance,note
        ada@example.com,Ada,Lovelace,C-1,London,pro,yes,pen;ink;paper,"12 Main St
        London",2024-03-05,1234.5,paid
        bob@example.com,Bob & Co,<Smith>,C-2,Paris,free,,one,1 Rue,2025-12-31,0,
        wang@example.cn,王,芳,C-3,北京,free,,,Beijing,2026-01-02,10,
        sara@example.il,שרה,سارة,C-4,Haifa,pro,,two;three,Haifa,2026-02-03,7.25,

        """

    /// A folder with the list imported and the two example documents made by the project's scripts.
    static func setUp() throws -> (dir: TemporaryDirectory, db: String) {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        try Command.broadsideSucceeding(["import", try dir.write("l.csv", list), "--list", "l", "--db", db])
        for (script, file) in [("make-word-letter.py", "letter.docx"), ("make-odt-certificate.py", "certificate.odt")] {
            let made = try Command.run(python, [Repository.root.appendingPathComponent("scripts/\(script)").path, dir.path(file)])
            guard made.status == 0 else { throw TestSupportError(made.stderr) }
        }
        return (dir, db)
    }

    /// A list of `count` members (`PREFIXn@example.com`, First n, Last n …) imported as "l",
    /// and the project's Word letter beside it.
    static func numberedLetters(_ count: Int, prefix: String) throws -> (dir: TemporaryDirectory, db: String) {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let rows = (1...count).map { "\(prefix)\($0)@example.com,First\($0),Last\($0),C-\($0),City\($0),free,,,Street \($0),2026-01-01,1," }
        try Command.broadsideSucceeding(["import", try dir.write("l.csv", "email,first_name,last_name,customer_id,city,plan,vip,items,address,joined,balance,note\n"
                                                                 + rows.joined(separator: "\n") + "\n"), "--list", "l", "--db", db])
        let made = try Command.run(python, [Repository.root.appendingPathComponent("scripts/make-word-letter.py").path, dir.path("letter.docx")])
        guard made.status == 0 else { throw TestSupportError(made.stderr) }
        return (dir, db)
    }

    /// What python3-docx reads: paragraphs, table cells and the header, one line each.
    static func wordText(_ path: String) throws -> String {
        let script = """
            import docx, sys
            d = docx.Document(sys.argv[1])
            for p in d.paragraphs: print(p.text)
            for t in d.tables:
                for r in t.rows: print(" | ".join(c.text for c in r.cells))
            for p in d.sections[0].header.paragraphs: print("header:", p.text)
            for p in d.sections[0].footer.paragraphs: print("footer:", p.text)
            ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
            for box in d.element.body.iter("{%s}txbxContent" % ns["w"]):
                print("box:", "".join(t.text or "" for t in box.iter("{%s}t" % ns["w"])))
            """
        let result = try Command.run(python, ["-c", script, path])
        guard result.status == 0 else { throw TestSupportError("python3-docx cannot read \(path): \(result.stderr)") }
        return result.stdout
    }

    @Test func aWordMailMergeDocumentIsFilledForEachRecipient() throws {
        let (dir, db) = try Self.setUp()
        let merged = try Command.broadside(["merge", "--template", dir.path("letter.docx"), "--list", "l", "--out", dir.path("out"),
                                            "--name", "{{ customer_id }} {{ last_name }}", "--db", db, "--json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains("\"documents\":4"), "\(merged.stdout)")

        let ada = try Self.wordText(dir.path("out/C-1 Lovelace.docx"))
        // The placeholder Word split over three runs, the complex field split over two
        // instrText runs, the simple field with \* Upper, the IF field, the table row loop, the header.
        for line in ["Dear Ada,", "Your customer number is C-1.", "We will write to you at LONDON.", "Thank you for choosing Pro.",
                     "As a valued member you get early access.", "pen", "ink", "paper", "Address: 12 Main St\nLondon", "header: Letter for Lovelace",
                     // \@ date picture, \# number picture, \b text before a value that is there.
                     "Joined 5 March 2024, balance 1,234.50 – note: paid."] {
            #expect(ada.contains(line), "missing \(line) in:\n\(ada)")
        }
        let bob = try Self.wordText(dir.path("out/C-2 <Smith>.docx"))
        #expect(bob.contains("Dear Bob & Co,") && bob.contains("Have a look at Pro.") && bob.contains("header: Letter for <Smith>"), "\(bob)")
        #expect(bob.contains("Joined 31 December 2025, balance 0.00."), "no text before an empty value: \(bob)")
        #expect(!bob.contains("early access") && !bob.contains("pen"), "\(bob)")
        #expect(ada.contains("footer: Customer C-1") && ada.contains("box: Box for London"), "\(ada)")
        // The footnote's field, split over two runs, is filled too.
        let footnotes = try Command.run(Self.python, ["-c", "import sys, zipfile, re; print(re.sub(r'<[^>]+>', '', zipfile.ZipFile(sys.argv[1]).read('word/footnotes.xml').decode()))",
                                                      dir.path("out/C-1 Lovelace.docx")]).stdout
        #expect(footnotes.contains("Written for Ada on request."), "\(footnotes)")
        let wang = try Self.wordText(dir.path("out/C-3 芳.docx"))
        #expect(wang.contains("Dear 王,") && wang.contains("We will write to you at 北京."), "\(wang)")
        let sara = try Self.wordText(dir.path("out/C-4 سارة.docx"))
        #expect(sara.contains("Dear שרה,") && sara.contains("header: Letter for سارة"), "\(sara)")
        for text in [ada, bob, wang, sara] {
            #expect(!text.contains("{{") && !text.contains("{%") && !text.contains("MERGEFIELD") && !text.contains("«"), "\(text)")
        }
        // No empty paragraph is left where the {% if %} and {% endif %} stood.
        #expect(bob.contains("Have a look at Pro.\nAddress: 1 Rue"), "\(bob)")
    }

    /// Only the parts with fields change: every other entry is the template's, compressed
    /// bytes and all; and Word's link to its data source is gone from settings.xml.
    @Test func untouchedPartsAreCopiedByteForByteAndTheDataSourceLinkIsRemoved() throws {
        let (dir, db) = try Self.setUp()
        try Command.broadsideSucceeding(["merge", "--template", dir.path("letter.docx"), "--list", "l", "--out", dir.path("out"), "--limit", "1", "--db", db])
        let script = """
            import sys, zipfile, struct
            def raw(path):
                out = {}
                with open(path, "rb") as f, zipfile.ZipFile(path) as z:
                    data = f.read()
                    for i in z.infolist():
                        n, x = struct.unpack("<HH", data[i.header_offset + 26:i.header_offset + 30])
                        start = i.header_offset + 30 + n + x
                        out[i.filename] = data[start:start + i.compress_size]
                    return out, z.read("word/settings.xml").decode()
            a, _ = raw(sys.argv[1]); b, settings = raw(sys.argv[2])
            print("same:", ",".join(sorted(k for k in a if a[k] == b.get(k))))
            print("changed:", ",".join(sorted(k for k in a if a[k] != b.get(k))))
            print("mailMerge" in settings)
            """
        let result = try Command.run(Self.python, ["-c", script, dir.path("letter.docx"), dir.path("out/letter-2.docx")])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "same: [Content_Types].xml,_rels/.rels,word/_rels/document.xml.rels,word/_rels/settings.xml.rels,word/styles.xml", "\(result.stdout)")
        #expect(lines.dropFirst().first == "changed: word/document.xml,word/footer1.xml,word/footnotes.xml,word/header1.xml,word/settings.xml", "\(result.stdout)")
        #expect(lines.last == "False", "settings.xml still names the data source")
    }

    @Test func anOpenDocumentTemplateWithDatabaseAndUserFields() throws {
        let (dir, db) = try Self.setUp()
        // The certificate reads columns this list lacks: all of them are named at once, and nothing is written.
        let refused = try Command.broadside(["merge", "--template", dir.path("certificate.odt"), "--list", "l", "--out", dir.path("out"), "--db", db])
        #expect(refused.status == 2)
        for field in ["course", "honours", "modules"] { #expect(refused.stderr.contains("'\(field)'"), "\(refused.stderr)") }
        #expect(refused.stderr.contains("content.xml, paragraph"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("out")))

        try Command.broadsideSucceeding(["import", try dir.write("c.csv", "email,first_name,last_name,course,honours,modules\nada@example.com,Ada,Lovelace,Engines,yes,Notes;Bernoulli\n"),
                                         "--list", "c", "--db", db])
        try Command.broadsideSucceeding(["merge", "--template", dir.path("certificate.odt"), "--list", "c", "--out", dir.path("out"), "--db", db])
        let script = """
            import sys, zipfile, re
            x = zipfile.ZipFile(sys.argv[1]).read("content.xml").decode()
            print(re.sub(r"<[^>]+>", " ", x))
            """
        let text = try Command.run(Self.python, ["-c", script, dir.path("out/certificate-2.odt")]).stdout
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("This certifies that Ada Lovelace"), "\(words)")
        #expect(words.contains("completed the course Engines.") && words.contains("With honours.") && words.contains("Module Notes Bernoulli"), "\(words)")
        #expect(!words.contains("{") && !words.contains("&lt;last_name"), "\(words)")
        // LibreOffice opens and converts what was made.
        if PDFAttachmentTests.libreOfficeIsThere {
            try Command.broadsideSucceeding(["merge", "--template", dir.path("certificate.odt"), "--list", "c", "--out", dir.path("pdf"), "--pdf", "--db", db])
            let pdf = try Command.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [dir.path("pdf/certificate-2.pdf"), "-"]).stdout
            #expect(pdf.contains("This certifies that Ada Lovelace"), "\(pdf)")
        }
    }

    /// LibreOffice makes the PDFs (a pool of processes, each fed a batch), and pdftotext finds
    /// each recipient's own values in their own PDF.
    @Test func pdfsThroughLibreOffice() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/soffice"), FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext") else {
            print("PDF merge test: skipped, LibreOffice (libreoffice-writer-nogui) or pdftotext (poppler-utils) is not installed; make test installs them")
            return
        }
        let (dir, db) = try Self.setUp()
        let merged = try Command.broadside(["merge", "--template", dir.path("letter.docx"), "--list", "l", "--out", dir.path("pdf"), "--pdf",
                                            "--name", "{{ first_name }}", "--db", db])
        #expect(merged.status == 0, "\(merged.stdout)\(merged.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path("pdf")).sorted()
        #expect(files == ["Ada.pdf", "Bob & Co.pdf", "שרה.pdf", "王.pdf"].sorted(), "\(files)")
        for (file, expected) in [("Ada.pdf", ["Dear Ada,", "LONDON", "Letter for Lovelace", "paper"]), ("王.pdf", ["Dear 王,", "北京", "Letter for 芳"]),
                                 ("Bob & Co.pdf", ["Dear Bob & Co,", "Have a look at Pro."])] {
            let text = try Command.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [dir.path("pdf/\(file)"), "-"]).stdout
            for value in expected { #expect(text.contains(value), "\(file) lacks \(value):\n\(text)") }
            #expect(!text.contains("{{") && !text.contains("«"), "\(text)")
        }
    }

    @Test func badDocumentsAreClearErrorsAndWriteNothing() throws {
        let (dir, db) = try Self.setUp()
        let cases: [(String, Data, String)] = [
            ("corrupt.docx", Data("PK\u{3}\u{4}this is not really a zip".utf8), "damaged"),
            ("protected.docx", Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 512)), "encrypted"),
            ("notes.docx", Data("just text".utf8), "not a .docx or .odt"),
            ("letter.pdf", Data("%PDF-1.4".utf8), "must be a Word .docx or an OpenDocument .odt"),
        ]
        for (name, bytes, words) in cases {
            try bytes.write(to: dir.url.appendingPathComponent(name))
            let result = try Command.broadside(["merge", "--template", dir.path(name), "--list", "l", "--out", dir.path("out-\(name)"), "--db", db])
            #expect(result.status == 2, "\(name): \(result.stderr)")
            #expect(result.stderr.contains(name) && result.stderr.contains(words), "\(name): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.path("out-\(name)")))
        }
    }

    /// A file name made from list values stays one name inside the folder.
    @Test func fileNamesFromTheListCannotLeaveTheFolder() throws {
        let (dir, db) = try Self.setUp()
        try Command.broadsideSucceeding(["import", try dir.write("evil.csv", "email,first_name,last_name,customer_id,city,plan,vip,items,address,joined,balance,note\nx@example.com,../../escaped,a/b,C,c,p,,,a,2026-01-01,1,\ny@example.com,../../escaped,a/b,C,c,p,,,a,2026-01-01,1,\n"),
                                         "--list", "evil", "--db", db])
        try Command.broadsideSucceeding(["merge", "--template", dir.path("letter.docx"), "--list", "evil", "--out", dir.path("out"),
                                         "--name", "{{ first_name }}/{{ last_name }}", "--db", db])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path("out")).sorted()
        #expect(files == ["-..-escaped-a-b (2).docx", "-..-escaped-a-b.docx"], "\(files)")
        #expect(!FileManager.default.fileExists(atPath: dir.url.deletingLastPathComponent().appendingPathComponent("escaped").path))
    }
}

/// A document attached per recipient (`Attachment: letter.docx as "Letter {{ last_name }}.docx"`):
/// sent through a real SMTP server, each message carries its recipient's own letter, made
/// from the campaign's frozen copy of the template.
@Suite("Documents: attached per recipient")
struct DocumentAttachmentTests {
    /// The attachments of a message as files in `folder`, by name.
    static func saveAttachments(_ message: String, into folder: String) throws -> [String] {
        let script = """
            import email, sys, os
            from email import policy
            msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
            for part in msg.iter_attachments():
                name = part.get_filename()
                open(os.path.join(sys.argv[1], name), "wb").write(part.get_content())
                print(name)
            """
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let result = try Command.run(DocumentMergeTests.python, ["-c", script, folder], input: Data(message.utf8))
        guard result.status == 0 else { throw TestSupportError(result.stderr) }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func eachRecipientGetsTheirOwnLetterFromTheFrozenTemplate() throws {
        let (dir, db) = try DocumentMergeTests.setUp()
        let server = try SMTPTestServer()
        let template = try dir.write("t.txt", """
            From: Office <office@example.com>
            Subject: Your letter, {{ first_name }}
            Attachment: letter.docx as "Letter {{ last_name }}.docx"

            Please find your letter attached.

            """)
        let checked = try Command.broadside(["check", "--template", template, "--list", "l", "--db", db])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        let first = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "letters", "--smtp", server.url,
                                           "--limit", "2", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        // The template on disk changes after the campaign started: the rest still get the letter as checked.
        try Data("not a document any more".utf8).write(to: dir.url.appendingPathComponent("letter.docx"))
        let resumed = try Command.broadside(["resume", "letters", "--db", db])
        #expect(resumed.status == 0, "\(resumed.stderr)")

        let received = try server.received()
        #expect(received.count == 4)
        for (recipient, last, first) in [("ada@example.com", "Lovelace", "Ada"), ("bob@example.com", "<Smith>", "Bob & Co"),
                                         ("wang@example.cn", "芳", "王"), ("sara@example.il", "سارة", "שרה")] {
            let message = try #require(received.first { $0.rcpt_tos == [recipient] })
            let folder = dir.path("got-\(recipient)")
            let names = try Self.saveAttachments(message.data, into: folder)
            #expect(names == ["Letter \(last).docx"], "\(names)")
            let text = try DocumentMergeTests.wordText((folder as NSString).appendingPathComponent("Letter \(last).docx"))
            #expect(text.contains("Dear \(first),") && text.contains("header: Letter for \(last)"), "\(recipient):\n\(text)")
            #expect(!text.contains("{{") && !text.contains("«"))
        }
    }

    @Test func checkReadsTheDocumentAndNamesEveryUnknownFieldWithItsPlace() throws {
        let (dir, db) = try DocumentMergeTests.setUp()
        try Command.broadsideSucceeding(["import", try dir.write("short.csv", "email,first_name\nada@example.com,Ada\n"), "--list", "short", "--db", db])
        let template = try dir.write("t.txt", "From: o@example.com\nSubject: Hi\nAttachment: letter.docx as \"Letter.docx\"\n\nHi.\n")
        let checked = try Command.broadside(["check", "--template", template, "--list", "short", "--db", db])
        #expect(checked.status == 2, "\(checked.stdout)\(checked.stderr)")
        for field in ["customer_id", "city", "plan", "vip", "items", "address", "last_name"] {
            #expect(checked.stderr.contains("'\(field)'"), "\(field) is not named: \(checked.stderr)")
        }
        #expect(checked.stderr.contains("letter.docx, word/document.xml, paragraph") && checked.stderr.contains("word/header1.xml"), "\(checked.stderr)")
    }
}

/// `Attachment: letter.docx as "Letter {{ last_name }}.pdf"`: each recipient's letter made
/// into a PDF by LibreOffice before their message is made; never sent without it.
@Suite("Documents: PDF attachments in a send")
struct PDFAttachmentTests {
    static var libreOfficeIsThere: Bool {
        let there = FileManager.default.isExecutableFile(atPath: "/usr/bin/soffice") && FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext")
        if !there { print("PDF attachment tests: skipped, LibreOffice or pdftotext is not installed (make test installs them)") }
        return there
    }

    static let template = """
        From: Office <office@example.com>
        Subject: Your letter, {{ first_name }}
        Attachment: letter.docx as "Letter {{ last_name }}.pdf"

        Please find your letter attached.

        """

    static func pdfText(_ message: String, in folder: String) throws -> (names: [String], text: String) {
        let names = try DocumentAttachmentTests.saveAttachments(message, into: folder)
        guard let name = names.first else { return ([], "") }
        let text = try Command.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [(folder as NSString).appendingPathComponent(name), "-"]).stdout
        return (names, text)
    }

    @Test(.enabled(if: libreOfficeIsThere)) func eachMessageCarriesItsRecipientsOwnPDF() throws {
        let (dir, db) = try DocumentMergeTests.setUp()
        let server = try SMTPTestServer()
        let template = try dir.write("t.txt", Self.template)
        // preview makes the PDFs too, and writes them beside the messages.
        try Command.broadsideSucceeding(["preview", "--template", template, "--list", "l", "--out", dir.path("preview"), "--limit", "2", "--db", db])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("preview")).sorted()
                    == ["0001-line2 Letter Lovelace.pdf", "0001-line2.eml", "0002-line4 Letter <Smith>.pdf", "0002-line4.eml"])
        let previewed = try Command.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [dir.path("preview/0001-line2 Letter Lovelace.pdf"), "-"]).stdout
        #expect(previewed.contains("Dear Ada,"), "\(previewed)")
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "pdf", "--smtp", server.url, "--db", db, "--json"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let received = try server.received()
        #expect(received.count == 4)
        for (recipient, last, first) in [("ada@example.com", "Lovelace", "Ada"), ("wang@example.cn", "芳", "王")] {
            let message = try #require(received.first { $0.rcpt_tos == [recipient] })
            let (names, text) = try Self.pdfText(message.data, in: dir.path("got-\(recipient)"))
            #expect(names == ["Letter \(last).pdf"], "\(names)")
            #expect(text.contains("Dear \(first),") && text.contains("Letter for \(last)"), "\(recipient):\n\(text)")
        }
        // The PDFs were made beside the database and are gone once their messages are accepted.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains("-documents-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// A LibreOffice that crashes on every batch: its messages are deferred with the reason,
    /// nothing leaves without its PDF; with LibreOffice working again they go, each with its own.
    @Test(.enabled(if: libreOfficeIsThere)) func aConverterThatCrashesDefersTheMessagesUntilItWorks() throws {
        let (dir, db) = try DocumentMergeTests.setUp()
        let server = try SMTPTestServer()
        let template = try dir.write("t.txt", Self.template)
        let crashing = try dir.write("soffice", "#!/bin/sh\nkill -9 $$\n")
        chmod(crashing, 0o755)
        let failed = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "pdf", "--smtp", server.url,
                                            "--retry-delay", "1s", "--db", db, "--json"], environment: ["BROADSIDE_SOFFICE": crashing])
        #expect(failed.status == 0, "\(failed.stdout)\(failed.stderr)")
        #expect(try server.received().isEmpty, "nothing is sent without its PDF")
        let states = try sqlite(db, "SELECT state, reason FROM messages ORDER BY id")
        #expect(states.count == 4 && states.allSatisfy { $0.hasPrefix("deferred|the PDF could not be made: LibreOffice") }, "\(states)")

        Thread.sleep(forTimeInterval: 1.2)
        let resumed = try Command.broadside(["resume", "pdf", "--db", db, "--json"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        let received = try server.received()
        #expect(received.count == 4)
        #expect(Set(received.map { $0.rcpt_tos[0] }).count == 4)
        let bob = try #require(received.first { $0.rcpt_tos == ["bob@example.com"] })
        let (names, text) = try Self.pdfText(bob.data, in: dir.path("got-bob"))
        #expect(names == ["Letter <Smith>.pdf"] && text.contains("Dear Bob & Co,"), "\(names)\n\(text)")
    }

    /// LibreOffice killed in the middle of a campaign: its process is replaced and the
    /// document it was making tried again; every recipient gets their own PDF, none goes without.
    @Test(.enabled(if: libreOfficeIsThere)) func libreOfficeKilledMidCampaignIsReplaced() throws {
        let (dir, db) = try DocumentMergeTests.numberedLetters(24, prefix: "k")
        let server = try SMTPTestServer()
        let template = try dir.write("t.txt", Self.template)
        // Profiles of this test's own, so that killing its LibreOffice touches no other.
        let cache = dir.path("cache")
        let send = Process()
        send.executableURL = Command.broadside
        send.arguments = ["send", "--template", template, "--list", "l", "--campaign", "pdf", "--smtp", server.url, "--rate", "8/s", "--db", db]
        send.environment = ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": cache]) { $1 }
        send.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        send.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try send.run()
        let deadline = Date().addingTimeInterval(60)
        while try server.received().count < 3, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let killed = try Command.run(URL(fileURLWithPath: "/usr/bin/pkill"), ["-9", "-f", "soffice.*\(cache)"])
        #expect(killed.status == 0, "a LibreOffice of this test was running and was killed")
        send.waitUntilExit()
        #expect(send.terminationStatus == 0)
        let received = try server.received()
        #expect(received.count == 24, "\(received.count)")
        #expect(Set(received.map { $0.rcpt_tos[0] }).count == 24)
        for message in received.suffix(6) {
            let n = message.rcpt_tos[0].dropFirst().prefix { $0 != "@" }
            let (names, text) = try Self.pdfText(message.data, in: dir.path("got-\(n)"))
            #expect(names == ["Letter Last\(n).pdf"] && text.contains("Dear First\(n),"), "\(names) \(text.prefix(200))")
        }
    }

    /// kill -9 while the PDFs are made and sent, then resume: every recipient gets exactly
    /// one message, with exactly their own PDF.
    @Test(.enabled(if: libreOfficeIsThere)) func killedMidCampaignEveryRecipientGetsOneMessageWithTheirOwnPDF() throws {
        let (dir, db) = try DocumentMergeTests.numberedLetters(30, prefix: "p")
        let server = try SMTPTestServer()
        let template = try dir.write("t.txt", Self.template)
        let send = ["send", "--template", template, "--list", "l", "--campaign", "pdf", "--smtp", server.url, "--rate", "10/s", "--db", db]
        let run = try Command.startBroadside(send).process
        let deadline = Date().addingTimeInterval(60)
        while try server.received().count < 5, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        let before = try server.received().count
        #expect(before >= 5 && before < 30, "the kill lands mid-campaign: \(before)")

        let resumed = try Command.broadside(["resume", "pdf", "--rate", "1000/s", "--db", db])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let received = try server.received()
        var count: [String: Int] = [:]
        for message in received { count[message.rcpt_tos[0], default: 0] += 1 }
        let unknown = Int(try sqlite(db, "SELECT count(*) FROM messages WHERE state = 'unknown'").first ?? "0") ?? 0
        #expect(count.values.allSatisfy { $0 == 1 }, "no recipient gets two messages: \(count.filter { $0.value > 1 })")
        #expect(count.count + unknown >= 30 && count.count <= 30, "\(count.count) received, \(unknown) unknown")
        for message in received.prefix(8) {
            let n = message.rcpt_tos[0].dropFirst().prefix { $0 != "@" }
            let (names, text) = try Self.pdfText(message.data, in: dir.path("got-\(n)"))
            #expect(names == ["Letter Last\(n).pdf"], "\(names)")
            #expect(text.contains("Dear First\(n),") && text.contains("Letter for Last\(n)"), "\(message.rcpt_tos[0]):\n\(text)")
        }
    }
}

/// A large merge to PDF goes through LibreOffice's own batch conversion (one process a core
/// for its whole share); a LibreOffice that crashes leaves those documents listed, exit 1.
@Suite("Documents: a large merge to PDF")
struct LargePDFMergeTests {
    @Test(.enabled(if: PDFAttachmentTests.libreOfficeIsThere)) func hundredsOfPDFsInOneMerge() throws {
        let count = 100 * ProcessInfo.processInfo.activeProcessorCount
        let (dir, db) = try DocumentMergeTests.numberedLetters(count, prefix: "m")
        let merged = try Command.broadside(["merge", "--template", dir.path("letter.docx"), "--list", "l", "--out", dir.path("pdf"), "--pdf",
                                            "--name", "{{ last_name }}", "--db", db, "--json"])
        #expect(merged.status == 0, "\(merged.stdout)\(merged.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path("pdf")).filter { $0.hasSuffix(".pdf") }
        #expect(files.count == count)
        for n in [1, count / 2, count] {
            let text = try Command.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [dir.path("pdf/Last\(n).pdf"), "-"]).stdout
            #expect(text.contains("Dear First\(n),") && text.contains("Letter for Last\(n)"), "\(n): \(text.prefix(200))")
        }
    }

    @Test func aCrashingLibreOfficeInALargeMergeListsWhatItCouldNotMake() throws {
        let count = 100 * ProcessInfo.processInfo.activeProcessorCount
        let (dir, db) = try DocumentMergeTests.numberedLetters(count, prefix: "m")
        let crashing = try dir.write("soffice", "#!/bin/sh\nkill -9 $$\n")
        chmod(crashing, 0o755)
        let merged = try Command.broadside(["merge", "--template", dir.path("letter.docx"), "--list", "l", "--out", dir.path("pdf"), "--pdf", "--db", db],
                                           environment: ["BROADSIDE_SOFFICE": crashing])
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), (try? Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", "import uno"]).status) == 0 else {
            print("large PDF merge crash test: skipped, python3-uno is not installed (make test installs it)")
            return
        }
        #expect(merged.status == 1, "\(merged.stdout)\(merged.stderr)")
        #expect(merged.stdout.contains("\(count) could not be made") && merged.stdout.contains("LibreOffice crashed"), "\(merged.stdout.prefix(400))")
        let made = (try? FileManager.default.contentsOfDirectory(atPath: dir.path("pdf")).filter { $0.hasSuffix(".pdf") }) ?? []
        #expect(made.isEmpty, "no PDF stands for a document that was not made")
    }
}
