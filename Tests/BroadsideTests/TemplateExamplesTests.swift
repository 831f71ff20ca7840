import Foundation
import Testing
import TestSupport

/// The example templates in templates/, rendered by `preview` and read back by Python's email package.
@Suite("Example templates")
struct TemplateExamplesTests {
    static let root = Repository.root

    func preview(_ template: String, list csv: String, extra: [String] = []) throws -> [PythonEmail.Parsed] {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        #expect(try Command.broadside(["import", Self.root.appendingPathComponent(csv).path, "--list", "l", "--db", db]).status == 0)
        let out = dir.path("out")
        let result = try Command.broadside(["preview", "--template", Self.root.appendingPathComponent(template).path, "--list", "l",
                                            "--out", out, "--db", db] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".eml") }.sorted().map {
            try PythonEmail.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent($0))))
        }
    }

    @Test func theNewsletterHasTextHTMLAndItsInlineLogo() throws {
        let messages = try preview("templates/newsletter", list: "samples/contacts.csv")
        #expect(messages.count == 10)
        let first = try #require(messages.first)
        #expect(first.defects.isEmpty)
        #expect(first.content_type == "multipart/alternative")
        #expect(first.text?.contains("Dear Ada,") == true)
        let html = try #require(first.html)
        #expect(html.contains("src=\"cid:1.logo.png@broadside\""))
        #expect(!html.contains("images/logo.png"))
        let chinese = try #require(messages.first { $0.to_addresses == ["wang.lei@example.cn"] })
        #expect(chinese.subject == "磊, the November news is here")
    }

    @Test func theDocumentMergeAttachesEachRecipientsOwnInvoice() throws {
        let messages = try preview("templates/document-merge", list: "samples/invoices.csv",
                                   extra: ["--attachments", Self.root.appendingPathComponent("samples/invoices").path])
        #expect(messages.map(\.attachments) == [["INV-1001.pdf"], ["INV-1002.pdf"], ["INV-1003.pdf"]])
        #expect(messages[0].subject == "Invoice INV-1001 — 1,250.00 EUR due 31 December 2026")
        #expect(messages.allSatisfy { $0.defects.isEmpty && $0.content_type == "multipart/mixed" })
    }

    /// The letter example: a Word mail-merge letter (the project's script makes it) attached
    /// to each message, filled for its recipient; the ODT certificate merged to files.
    @Test func theLetterAttachesEachRecipientsOwnWordLetter() throws {
        let messages = try preview("templates/letter", list: "samples/letters.csv")
        #expect(messages.map(\.attachments) == [["Letter Lovelace.docx"], ["Letter Hopper.docx"], ["Letter 王.docx"]])
        #expect(messages.allSatisfy { $0.defects.isEmpty && $0.content_type == "multipart/mixed" })

        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        try Command.broadsideSucceeding(["import", Self.root.appendingPathComponent("samples/letters.csv").path, "--list", "l", "--db", db])
        try Command.broadsideSucceeding(["merge", "--template", Self.root.appendingPathComponent("templates/letter/certificate.odt").path,
                                         "--list", "l", "--out", dir.path("out"), "--name", "{{ last_name }} certificate", "--db", db])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("out")).sorted()
                    == ["Hopper certificate.odt", "Lovelace certificate.odt", "王 certificate.odt"])
    }
}
