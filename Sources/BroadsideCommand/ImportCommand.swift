import ArgumentParser
import Broadside
import Engine
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

    @Flag(help: "Members of the list that the file does not hold leave it (suppressions stay). Asks on a terminal; give --yes otherwise.")
    var sync = false

    @Flag(help: "With --sync: do not ask.")
    var yes = false

    @Flag(help: "Print one JSON object: list, rows, imported, updated, unchanged, duplicates, rejected, suppressed, removed.")
    var json = false

    func run() throws {
        let delimiterByte = try delimiter.map(Self.delimiter(from:))
        if sync && !yes {
            guard isatty(STDIN_FILENO) == 1 && Output.stderrIsTerminal else {
                throw BroadsideError.input("--sync takes members out of list '\(list)'; confirm with --yes when not at a terminal")
            }
            FileHandle.standardError.write(Data("Members of list '\(list)' that \(csv) does not hold will leave the list. Go on? [y/N] ".utf8))
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                throw BroadsideError.input("nothing imported")
            }
        }
        let store = try global.openStore()
        var options = ImportOptions(listName: list, emailColumn: emailColumn, delimiter: delimiterByte, encoding: encoding, rejectsPath: rejects)
        options.sync = sync
        let progress = ProgressLine(json: json)
        let summary = try ContactImport.run(file: csv, options: options, store: store, now: Output.now()) { rows, fractionRead in
            progress.show("\(rows) rows  \(Int(fractionRead * 100))% of the file", done: rows, unit: "rows", fraction: fractionRead)
        }
        progress.clear()
        if json {
            try Output.json(summary)
        } else {
            Output.line("\(csv) → list '\(summary.list)': \(summary.rows) rows, \(summary.imported) imported, \(summary.updated) updated, \(summary.unchanged) unchanged, \(summary.duplicates) duplicates, \(summary.rejected) rejected, \(summary.suppressed) suppressed\(sync ? ", \(summary.removed) removed" : "")")
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
    static let configuration = CommandConfiguration(commandName: "lists", abstract: "The lists with their sizes; remove members or delete a list.",
                                                    subcommands: [ListsShow.self, Remove.self, Delete.self], defaultSubcommand: ListsShow.self)

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take addresses out of a list (campaigns already made keep them; suppressions stay).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The list.") var list: String
        @Argument(help: "The addresses.") var addresses: [String]

        func run() throws {
            let normalized = try addresses.map(SuppressCommand.normalized)
            let removed = try global.openStore().removeMembers(normalized, from: list)
            Output.line("\(removed) address(es) removed from list '\(TerminalText.inert(list))' (\(normalized.count - removed) were not in it)")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a list (refused while a campaign was made from it; suppressions stay).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The list.") var list: String

        func run() throws {
            let members = try global.openStore().deleteList(list)
            Output.line("List '\(TerminalText.inert(list))' deleted (\(members) members)")
        }
    }
}

struct ListsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The lists with their sizes.")

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
        // Aligned by the columns a name takes on the terminal: 十一月 is six, not three.
        let width = max(4, lists.map { TerminalText.width(TerminalText.inert($0.name)) }.max() ?? 4)
        Output.line("\(TerminalText.padded("list", to: width))   members  suppressed  columns")
        for list in lists {
            Output.line("\(TerminalText.padded(list.name, to: width))  \(String(list.members).leftPadded(8))  \(String(list.suppressed).leftPadded(10))  \(TerminalText.inert(list.columns.joined(separator: ", ")))")
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
