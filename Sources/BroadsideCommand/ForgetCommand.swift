import Addresses
import ArgumentParser
import Broadside
import Foundation
import Store

/// `broadside forget ADDRESS…`: a person's right to be forgotten.
struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget people: their fields and their address in every list, campaign, event and bounce (the campaigns' counts stay; a suppression is kept as a hash).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The addresses to forget.") var addresses: [String]
    @Flag(help: "Print a JSON object on standard output.") var json = false

    func run() throws {
        // Every address is read before anything is forgotten.
        let normalised = try addresses.map { text -> String in
            do { return try EmailAddress(parsing: text).normalized } catch {
                throw BroadsideError.input("'\(text)' is not an address: \(error)")
            }
        }
        let store = try global.openStoreForReading()
        var reports: [ForgetReport] = []
        var unknown: [String] = []
        for address in normalised {
            if let report = try Store(path: store.path).forget(address: address, now: Output.now()) { reports.append(report) } else { unknown.append(address) }
        }
        if json {
            struct Result: Encodable { var forgotten: [ForgetReport]; var unknown: [String] }
            try Output.json(Result(forgotten: reports, unknown: unknown))
            return
        }
        for report in reports {
            Output.line("\(report.address): forgotten — \(report.lists) list membership(s), \(report.messages) message(s) anonymised, \(report.bounces) bounce(s), \(report.trackingEvents) open(s) and click(s) and \(report.replies) repl(ies) deleted, suppression \(report.suppression)")
        }
        for address in unknown { Output.line("nothing is known of \(address)") }
    }
}
