import ArgumentParser
import Broadside
import Documents
import Foundation

/// `broadside merge`: one filled document per list member, into a folder, without sending.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fill a Word (.docx) or LibreOffice (.odt) template for each member of a list and write one document each (or one PDF each).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The document template (.docx or .odt), with {{ fields }} or Word's own merge fields.") var template: String
    @Option(help: "The list.") var list: String
    @Option(help: "The folder to write the documents into.") var out: String
    @Flag(help: "Write PDFs (through LibreOffice) instead of the template's own format.") var pdf = false
    @Option(help: "Each document's file name, templated (default: the template's name and the CSV line, e.g. letter-2.docx).") var name: String?
    @Option(help: "At most this many documents.") var limit: Int?
    @Flag(help: "Print a JSON summary on standard output.") var json = false

    func run() throws {
        let document: DocumentTemplate
        do { document = try DocumentTemplate(path: template) } catch { throw BroadsideError.input(error.message) }
        let merge = try DocumentMerge(document: document, nameTemplate: name, pdf: pdf)
        let store = try global.openStoreForReading()
        guard let summary = try store.list(named: list) else {
            throw BroadsideError.input("there is no list '\(list)'; import one with: broadside import FILE.csv --list \(list)")
        }
        // All problems in one run, before anything is written.
        let problems = merge.problems(columns: summary.columns)
        guard problems.isEmpty else {
            throw BroadsideError.input(problems.joined(separator: "\n") + "\n(the list's columns are: \(summary.columns.joined(separator: ", ")))")
        }
        if pdf { _ = try PDFConverter() }
        let progress = ProgressLine(json: json)
        let total = min(limit ?? summary.members, summary.members)
        let result = try merge.run(store: store, list: list, folder: out, limit: limit) { done in
            guard done % 50 == 0 || done == total else { return }
            progress.show("\(done)/\(total) documents", done: done, unit: "documents", fraction: Double(done) / Double(max(total, 1)),
                          instead: pdf && done == total ? "converting to PDF…" : nil)
        }
        progress.clear()
        if json {
            try Output.json(result)
        } else {
            Output.line("\(result.documents) document(s) written to \(out)\(result.failed > 0 ? "; \(result.failed) could not be made:" : "")")
            for (file, why) in result.failures.sorted(by: { $0.key < $1.key }) { Output.line("  \(file): \(why)") }
        }
        if result.failed > 0 { throw ExitCode(ExitStatus.workFailed) }
    }
}
