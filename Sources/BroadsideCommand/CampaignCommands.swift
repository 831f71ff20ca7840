import ArgumentParser
import Broadside
import Delivery
import Engine
import Foundation
import Messages
import Store

struct CampaignsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "campaigns", abstract: "Each campaign with its counts by state; delete or rename one.",
                                                    subcommands: [CampaignsShow.self, Delete.self, Rename.self], defaultSubcommand: CampaignsShow.self)

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a campaign with its messages and events (refused while it is sending). Suppressions stay.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The campaign.") var campaign: String

        func run() throws {
            let store = try global.openStore()
            let record = try findCampaign(campaign, in: store)
            guard !record.isSending(in: store) else {
                throw BroadsideError.input("campaign '\(campaign)' is sending; pause it first (broadside pause \(campaign))")
            }
            try store.deleteCampaign(id: record.id)
            Output.line("Campaign \(TerminalText.inert(campaign)) deleted")
        }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a campaign (refused while it is sending).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The campaign.") var campaign: String
        @Argument(help: "Its new name.") var newName: String

        func run() throws {
            let store = try global.openStore()
            let record = try findCampaign(campaign, in: store)
            guard !record.isSending(in: store) else {
                throw BroadsideError.input("campaign '\(campaign)' is sending; pause it first (broadside pause \(campaign))")
            }
            try store.renameCampaign(id: record.id, to: newName)
            Output.line("Campaign \(TerminalText.inert(campaign)) is now \(TerminalText.inert(newName))")
        }
    }
}

struct CampaignsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Each campaign with its counts by state.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object.") var json = false

    struct Entry: Encodable {
        var name: String
        var list: String
        /// active, waiting (only retries to come), paused or finished.
        var status: String
        /// By state, and `sending` (claimed or awaiting a reply): they add up to the campaign's total.
        var counts: [String: Int]
        var next_retry_at: String?
    }

    func run() throws {
        let store = try global.openStoreForReading()
        let entries = try store.campaigns().map { campaign in
            let counts = try store.counts(of: campaign.id)
            var status = campaign.status.rawValue
            var next: String?
            // Active with nothing to send now and retries to come: it is waiting, not sending.
            if campaign.status == .active, (counts[.queued] ?? 0) + (counts[.claimed] ?? 0) == 0, (counts[.deferred] ?? 0) > 0 {
                status = "waiting"
                next = try store.nextDeferral(campaignID: campaign.id).map { MessageDate.iso8601(secondsSince1970: $0) }
            }
            var all = Dictionary(uniqueKeysWithValues: MessageState.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
            all["sending"] = MessageState.beingSent.reduce(0) { $0 + (counts[$1] ?? 0) }
            return Entry(name: campaign.name, list: campaign.listName, status: status, counts: all, next_retry_at: next)
        }
        if json {
            struct All: Encodable { var campaigns: [Entry] }
            try Output.json(All(campaigns: entries))
            return
        }
        if entries.isEmpty { Output.line("No campaigns yet: broadside send --template FILE --list NAME --campaign C --smtp URL"); return }
        let width = max(8, entries.map { TerminalText.width(TerminalText.inert($0.name)) }.max() ?? 8)
        // Every state a message can be in, so that the columns add up to the total.
        let shown = ["queued", "sending", "accepted", "deferred", "failed", "unknown", "bounced", "complained", "skipped"]
        Output.line("campaign".padding(toLength: width, withPad: " ", startingAt: 0) + "  status   " + shown.map { $0.leftPadded(11) }.joined() + "  total")
        for entry in entries {
            let total = shown.reduce(0) { $0 + (entry.counts[$1] ?? 0) }
            Output.line(TerminalText.padded(entry.name, to: width) + "  " + entry.status.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                        + shown.map { String(entry.counts[$0] ?? 0).leftPadded(11) }.joined() + String(total).leftPadded(7)
                        + (entry.next_retry_at.map { "  next retry \($0)" } ?? ""))
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
        if record.status == .finished {
            throw BroadsideError.input("campaign '\(campaign)' has finished: nothing is left to pause")
        }
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
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The campaign report: totals, rates, domains, reasons, throughput; or two campaigns side by side.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv, html
    }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The campaign (two to compare them).") var campaigns: [String]
    @Option(help: "table (default), json, csv (one row per message) or html (one self-contained page).") var format: Format?
    @Flag(help: "Same as --format json.") var json = false
    @Option(help: "Write the report to this file instead of standard output.") var out: String?
    @Option(help: "The report's language, for the table and the HTML page: en or zh (default: the language the campaign's template is written in).") var lang: String?

    func validate() throws {
        if campaigns.isEmpty || campaigns.count > 2 { throw ValidationError("name one campaign, or two to compare them") }
        if let lang, ReportLanguage(rawValue: lang.lowercased()) == nil { throw ValidationError("--lang is en or zh, not '\(lang)'") }
    }

    /// `--lang`, else the language the campaign's template is written in.
    func language(_ campaign: CampaignRecord) -> ReportLanguage {
        lang.flatMap { ReportLanguage(rawValue: $0.lowercased()) } ?? ReportLanguage.of(template: campaign.templateSource)
    }

    func run() throws {
        let store = try global.openStoreForReading()
        let records = try campaigns.map { try findCampaign($0, in: store) }
        let chosen = json ? .json : (format ?? .table)
        if chosen == .csv, records.count == 1 {
            if let out { _ = FileManager.default.createFile(atPath: out, contents: nil) }
            guard let handle = out.map({ FileHandle(forWritingAtPath: $0) }) ?? FileHandle.standardOutput else {
                throw BroadsideError.input("\(out ?? "-"): cannot write the report")
            }
            try CampaignReport.csv(campaign: records[0], store: store, into: handle)
            return
        }
        let reports = try records.map { try CampaignReport(campaign: $0, store: store) }
        let text: String
        switch chosen {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if reports.count == 2 {
                struct Comparison: Encodable { var campaigns: [CampaignReport]; var compared: [CampaignReport.ComparedFigure] }
                text = String(decoding: try encoder.encode(Comparison(campaigns: reports, compared: CampaignReport.compared(reports[0], reports[1]))), as: UTF8.self)
            } else {
                text = String(decoding: try encoder.encode(reports[0]), as: UTF8.self)
            }
        case .csv:
            text = CampaignReport.comparisonCSV(reports[0], reports[1])
        case .html where reports.count == 2:
            text = CampaignReport.comparisonHTML(reports[0], reports[1], language: language(records[0]))
        case .html:
            text = reports[0].html(language: language(records[0]))
        default:
            text = reports.count == 2 ? CampaignReport.comparison(reports[0], reports[1])
                : reports[0].table(colour: out == nil && Output.colour, language: language(records[0]))
        }
        if let out {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: out))
        } else {
            Output.line(text)
        }
    }
}
