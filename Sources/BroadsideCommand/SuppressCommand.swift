import Addresses
import ArgumentParser
import Broadside
import Engine
import Foundation
import Store

struct SuppressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress",
        abstract: "The suppression list: addresses no campaign sends to.",
        subcommands: [Add.self, Remove.self, List.self, Import.self])

    static func normalized(_ text: String) throws -> String {
        do {
            return try EmailAddress(parsing: text).normalized
        } catch {
            throw BroadsideError.input("\(error)")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppress addresses.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The addresses.") var addresses: [String]
        @Option(help: "Why.") var reason = "added by hand"
        @Option(help: "Where the entry came from.") var source = "manual"

        func run() throws {
            let normalized = try addresses.map(SuppressCommand.normalized)
            let added = try global.openStore().suppress(normalized, reason: reason, source: source, now: Output.now())
            Output.line("\(added) address(es) added to the suppression list (\(normalized.count - added) already there)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove addresses from the suppression list.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The addresses.") var addresses: [String]

        func run() throws {
            let removed = try global.openStore().unsuppress(try addresses.map(SuppressCommand.normalized))
            Output.line("\(removed) address(es) removed from the suppression list")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The suppression list.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let entries = try global.openStoreForReading().suppressions()
            if json {
                struct All: Encodable { var suppressions: [Suppression] }
                try Output.json(All(suppressions: entries))
                return
            }
            if entries.isEmpty {
                Output.note("The suppression list is empty: 'broadside suppress add ADDRESS' or 'broadside bounces import FILE' fill it")
                return
            }
            // A header on a terminal; tab-separated lines without one for scripts.
            if Output.stdoutIsTerminal { Output.line("address\tsource\treason\tcampaign") }
            for entry in entries {
                Output.line(([entry.address, entry.source, entry.reason] + [entry.campaign].compactMap { $0 }).map(TerminalText.inert).joined(separator: "\t"))
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppress every address of a CSV (its email column; a 'reason' column if present).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var csv: String
        @Option(help: "Why, for rows without a reason column.") var reason = "imported"
        @Option(name: .customLong("email-column"), help: "The column holding addresses (default: found by name).") var emailColumn: String?

        func run() throws {
            let result = try SuppressionImport.run(file: csv, emailColumn: emailColumn, defaultReason: reason,
                                                   store: try global.openStore(), now: Output.now())
            Output.line("\(csv): \(result.added) added, \(result.already) already suppressed, \(result.rejected.count) rejected")
            for rejection in result.rejected.prefix(20) { Output.note("  line \(rejection.line): \(rejection.reason)") }
            if !result.rejected.isEmpty { throw ExitCode(ExitStatus.workFailed) }
        }
    }
}
