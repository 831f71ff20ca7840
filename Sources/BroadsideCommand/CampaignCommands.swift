import ArgumentParser
import Broadside
import Delivery
import Foundation
import Store

struct CampaignsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "campaigns", abstract: "Each campaign with its counts by state.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object.") var json = false

    struct Entry: Encodable {
        var name: String
        var list: String
        var status: String
        var counts: [String: Int]
    }

    func run() throws {
        let store = try global.openStore()
        let entries = try store.campaigns().map { campaign in
            let counts = try store.counts(of: campaign.id)
            return Entry(name: campaign.name, list: campaign.listName, status: campaign.status.rawValue,
                         counts: Dictionary(uniqueKeysWithValues: MessageState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }))
        }
        if json {
            struct All: Encodable { var campaigns: [Entry] }
            try Output.json(All(campaigns: entries))
            return
        }
        if entries.isEmpty { Output.line("No campaigns yet: broadside send --template FILE --list NAME --campaign C --smtp URL"); return }
        let width = max(8, entries.map(\.name.count).max() ?? 8)
        let shown: [MessageState] = [.queued, .accepted, .deferred, .failed, .unknown, .bounced, .skipped]
        Output.line("campaign".padding(toLength: width, withPad: " ", startingAt: 0) + "  status   " + shown.map { $0.rawValue.leftPadded(9) }.joined())
        for entry in entries {
            Output.line(entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + entry.status.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                        + shown.map { String(entry.counts[$0.rawValue] ?? 0).leftPadded(9) }.joined())
        }
    }
}

/// Finds a campaign by name or says how to list them.
func findCampaign(_ name: String, in store: Store) throws -> CampaignRecord {
    guard let campaign = try store.campaign(named: name) else {
        throw BroadsideError.input("there is no campaign '\(name)'; 'broadside campaigns' lists them")
    }
    return campaign
}

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a campaign; a running send finishes the messages in flight and stops.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The campaign.") var campaign: String

    func run() throws {
        let store = try global.openStore()
        let record = try findCampaign(campaign, in: store)
        try store.setStatus(.paused, reason: "paused by 'broadside pause'", of: record.id, now: Output.now())
        Output.line("Campaign \(campaign) paused; 'broadside resume \(campaign)' goes on")
    }
}

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put deferred, failed or unknown messages back in the queue (same Message-ID, same return path).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The campaign.") var campaign: String
    @Flag(help: "Deferred messages, now rather than at their time.") var deferred = false
    @Flag(help: "Failed messages.") var failed = false
    @Flag(help: "Messages whose outcome is unknown (they may have been delivered: a retry may duplicate them).") var unknown = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if !deferred && !failed && !unknown { throw ValidationError("say which messages: --deferred, --failed and/or --unknown") }
    }

    func run() throws {
        let store = try global.openStore()
        let record = try findCampaign(campaign, in: store)
        var states: Set<MessageState> = []
        if deferred { states.insert(.deferred) }
        if failed { states.insert(.failed) }
        if unknown { states.insert(.unknown) }
        let count = try store.requeue(campaignID: record.id, states: states, now: Output.now())
        if json {
            struct Result: Encodable { var campaign: String; var requeued: Int }
            try Output.json(Result(campaign: campaign, requeued: count))
        } else {
            Output.line("\(count) message(s) of \(campaign) queued again; 'broadside resume \(campaign)' sends them")
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "The campaign report: totals by state, rates, timing.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The campaign.") var campaign: String
    @Option(help: "table (default on a terminal) or json.") var format: Format?
    @Flag(help: "Same as --format json.") var json = false
    @Option(help: "Write the report to this file instead of standard output.") var out: String?

    func run() throws {
        let store = try global.openStore()
        let report = try CampaignReport(campaign: try findCampaign(campaign, in: store), store: store)
        let chosen = json ? .json : (format ?? .table)
        let text: String
        switch chosen {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            text = String(decoding: try encoder.encode(report), as: UTF8.self)
        case .table:
            text = report.table(colour: out == nil && Output.colour)
        }
        if let out {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: out))
        } else {
            Output.line(text)
        }
    }
}
