import ArgumentParser
import Broadside
import Foundation
import Store

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Stream a CSV of recipients into a list; rejected rows are reported with their line numbers.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The CSV file (a header row, an email column, other columns become merge fields).")
    var csv: String

    @Option(help: "The list to import into (created if new).")
    var list: String

    @Option(help: "The file's encoding: utf-8, utf-16, gb18030, windows-1252, latin-1 (default: from its BOM, else UTF-8).")
    var encoding: String?

    @Option(help: "The field delimiter: ',' ';' tab '|' (default: sniffed).")
    var delimiter: String?

    @Option(name: .customLong("email-column"), help: "The column holding addresses (default: found by name).")
    var emailColumn: String?

    @Option(help: "Write rejected rows (line, reason, original row) to this CSV file.")
    var rejects: String?

    @Flag(help: "Print one JSON object: list, rows, imported, updated, duplicates, rejected, suppressed.")
    var json = false

    func run() throws {
        let delimiterByte = try delimiter.map(Self.delimiter(from:))
        let store = try global.openStore()
        let options = ImportOptions(listName: list, emailColumn: emailColumn, delimiter: delimiterByte, encoding: encoding, rejectsPath: rejects)
        let started = Date()
        let showProgress = !json && Output.stderrIsTerminal
        let summary = try ContactImport.run(file: csv, options: options, store: store, now: Output.now()) { rows in
            guard showProgress else { return }
            let rate = Double(rows) / max(Date().timeIntervalSince(started), 0.001)
            FileHandle.standardError.write(Data("\r\u{1B}[2K  \(rows) rows  \(Int(rate)) rows/s".utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        if json {
            try Output.json(summary)
        } else {
            Output.line("\(csv) → list '\(summary.list)': \(summary.rows) rows, \(summary.imported) imported, \(summary.updated) updated, \(summary.duplicates) duplicates, \(summary.rejected) rejected, \(summary.suppressed) suppressed")
            for rejection in summary.rejections.prefix(20) {
                Output.note("  line \(rejection.line): \(rejection.reason)")
            }
            if summary.rejected > 20 {
                Output.note("  … and \(summary.rejected - 20) more\(rejects.map { " (all in \($0))" } ?? " (write them all with --rejects FILE)")")
            }
        }
        if summary.rejected > 0 { throw ExitCode(ExitStatus.workFailed) }
    }

    static func delimiter(from text: String) throws -> UInt8 {
        switch text {
        case ",", ";", "|": return UInt8(ascii: Unicode.Scalar(text) ?? ",")
        case "tab", "\\t", "\t": return 0x09
        default: throw ValidationError("--delimiter must be ',', ';', '|' or tab, not '\(text)'")
        }
    }
}

struct ListsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lists", abstract: "The lists with their sizes.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let lists = try global.openStoreForReading().lists()
        if json {
            struct Lists: Encodable { var lists: [ListSummaryJSON] }
            try Output.json(Lists(lists: lists.map(ListSummaryJSON.init)))
            return
        }
        if lists.isEmpty { Output.line("No lists yet: broadside import FILE.csv --list NAME"); return }
        let width = max(4, lists.map(\.name.count).max() ?? 4)
        Output.line("\("list".padding(toLength: width, withPad: " ", startingAt: 0))   members  suppressed  columns")
        for list in lists {
            Output.line("\(list.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(list.members).leftPadded(8))  \(String(list.suppressed).leftPadded(10))  \(list.columns.joined(separator: ", "))")
        }
    }
}

struct ListSummaryJSON: Encodable {
    var name: String
    var members: Int
    var suppressed: Int
    var columns: [String]

    init(_ summary: ListSummary) {
        name = summary.name
        members = summary.members
        suppressed = summary.suppressed
        columns = summary.columns
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
