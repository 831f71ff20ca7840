import CSV
import Delivery
import Foundation
import Messages
import Store

/// The campaign report: what happened, from the database alone. Its JSON form is the
/// documented schema (README, "The report").
public struct CampaignReport: Sendable, Codable {
    public var campaign: String
    public var list: String
    public var template: String
    public var templateHash: String
    public var profile: String?
    public var status: String
    public var statusReason: String?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Messages in the campaign.
    public var total: Int
    /// Messages in each state, every state listed.
    public var totals: [String: Int]
    /// Each state's share of the total, in percent.
    public var percentages: [String: Double]
    /// Accepted (and later bounced or complained: they were delivered to a server), out of those not skipped.
    public var deliveryRate: Double
    public var hardBounceRate: Double
    public var softBounceRate: Double
    public var complaintRate: Double
    public var attempts: Int
    /// From the first attempt to the last.
    public var elapsedSeconds: Double
    /// Accepted messages per second over that time, and in the busiest minute.
    public var ratePerSecond: Double
    public var peakRatePerSecond: Double
    public var domains: [DomainFigures]
    public var reasons: [ReasonFigures]
    public var throughput: [Minute]
    /// How many messages needed 1, 2, or 3 and more attempts.
    public var retries: Retries
    public var unknown: [Unknown]
    /// Recipients that failed, bounced, complained or have no known outcome, with the reason in words.
    public var problems: [Problem]
    /// Addresses this campaign put on the suppression list, by source: `smtp` (refused at
    /// SMTP time as dead), `bounce`, `complaint`, `one-click`, `mailto`.
    public var suppressed: [String: Int]

    public struct Minute: Sendable, Codable, Equatable {
        public var minute: String
        public var accepted: Int
    }

    public struct Retries: Sendable, Codable, Equatable {
        public var one: Int
        public var two: Int
        public var threeOrMore: Int

        enum CodingKeys: String, CodingKey {
            case one = "1", two = "2", threeOrMore = "3+"
        }
    }

    public struct Problem: Sendable, Codable, Equatable {
        public var recipient: String
        public var state: String
        /// The taxonomy id (`userunknown`), or what happened in other words.
        public var reason: String?
        /// The reason as a manager would say it ("address does not exist").
        public var words: String?
        public var reply: String?
    }

    public struct Unknown: Sendable, Codable, Equatable {
        public var recipient: String
        public var detail: String?
    }

    enum CodingKeys: String, CodingKey {
        case campaign, list, template, profile, status, total, totals, percentages, attempts, domains, reasons, throughput, retries, unknown, suppressed
        case problems
        case templateHash = "template_hash"
        case statusReason = "status_reason"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case deliveryRate = "delivery_rate"
        case hardBounceRate = "hard_bounce_rate"
        case softBounceRate = "soft_bounce_rate"
        case complaintRate = "complaint_rate"
        case elapsedSeconds = "elapsed_s"
        case ratePerSecond = "rate_per_s"
        case peakRatePerSecond = "peak_rate_per_s"
    }

    public init(campaign: CampaignRecord, store: Store) throws {
        let figures = try store.figures(of: campaign.id)
        self.campaign = campaign.name
        self.list = campaign.listName
        self.template = campaign.templatePath
        self.templateHash = campaign.templateHash
        self.profile = (try? CampaignSettings(json: campaign.settings))?.profileKey
        self.status = campaign.status.rawValue
        self.statusReason = campaign.statusReason
        self.createdAt = Timestamp.iso(campaign.createdAt)
        self.startedAt = campaign.startedAt.map(Timestamp.iso)
        self.finishedAt = campaign.finishedAt.map(Timestamp.iso)
        self.total = figures.total
        var totals: [String: Int] = [:]
        var percentages: [String: Double] = [:]
        for state in MessageState.allCases {
            let count = figures.counts[state] ?? 0
            totals[state.rawValue] = count
            percentages[state.rawValue] = figures.total > 0 ? Self.rounded(Double(count) * 100 / Double(figures.total), places: 2) : 0
        }
        self.totals = totals
        self.percentages = percentages
        let reached = (figures.counts[.accepted] ?? 0) + (figures.counts[.bounced] ?? 0) + (figures.counts[.complained] ?? 0)
        let eligible = figures.total - (figures.counts[.skipped] ?? 0)
        func rate(_ n: Int, of d: Int) -> Double { d > 0 ? Self.rounded(Double(n) / Double(d), places: 4) : 0 }
        self.deliveryRate = rate(reached - (figures.counts[.bounced] ?? 0), of: eligible)
        self.hardBounceRate = rate(figures.hardBounces, of: reached)
        self.softBounceRate = rate(figures.softBounces, of: reached)
        self.complaintRate = rate(figures.counts[.complained] ?? 0, of: reached)
        self.attempts = figures.attempts
        let elapsed = max(0, (figures.lastAttemptAt ?? 0) - (figures.firstAttemptAt ?? 0))
        self.elapsedSeconds = Self.rounded(elapsed, places: 3)
        self.ratePerSecond = elapsed > 0 ? Self.rounded(Double(reached) / elapsed, places: 1) : 0
        self.peakRatePerSecond = Self.rounded(Double(figures.acceptedPerMinute.map(\.count).max() ?? 0) / 60, places: 1)
        self.domains = figures.domains
        self.reasons = figures.reasons
        self.throughput = figures.acceptedPerMinute.map { Minute(minute: Timestamp.iso($0.minute), accepted: $0.count) }
        self.retries = Retries(one: figures.attemptsHistogram[1], two: figures.attemptsHistogram[2], threeOrMore: figures.attemptsHistogram[3])
        self.unknown = figures.unknown.map { Unknown(recipient: $0.recipient, detail: $0.detail) }
        self.problems = figures.problems.map {
            Problem(recipient: $0.recipient, state: $0.state, reason: $0.reason, words: $0.reason.map(FailureReason.words(for:)), reply: $0.reply)
        }
        self.suppressed = try store.suppressionsBySource(campaignID: campaign.id)
    }

    /// "2000 took one attempt, 3 took two, 1 took three or more": how many tries messages needed.
    var attemptsInWords: String {
        "Messages by attempts: \(retries.one) took one, \(retries.two) took two, \(retries.threeOrMore) took three or more"
    }

    /// "mailbox full (2)": a domain's most common problem in words, with how many had it.
    static func problemInWords(_ problem: DomainFigures.CommonProblem?) -> String? {
        problem.map { "\(FailureReason.words(for: $0.reason)) (\($0.count))" }
    }

    static let stateOrder: [MessageState] = [.accepted, .bounced, .complained, .failed, .deferred, .unknown, .skipped, .queued, .claimed, .awaitingReply]

    /// An aligned table for a terminal; coloured only when asked (a terminal without NO_COLOR).
    public func table(colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        let colours: [MessageState: String] = [.accepted: "32", .bounced: "31", .complained: "31", .failed: "31", .deferred: "33", .unknown: "35", .skipped: "90"]
        // Whatever came from outside (names, replies, addresses) is shown, never obeyed by the terminal.
        let t = TerminalText.inert
        var lines = [
            "Campaign \(t(campaign))  (list \(t(list)), template \(t(template)) #\(templateHash.prefix(8))\(profile.map { ", profile \(t($0))" } ?? ""))",
            "Status   \(status)\(statusReason.map { " — \(t($0))" } ?? "")   started \(startedAt ?? "-")   finished \(finishedAt ?? "-")",
            "",
        ]
        let width = Self.stateOrder.map { $0.rawValue.count }.max() ?? 10
        for state in Self.stateOrder {
            let count = totals[state.rawValue] ?? 0
            if count == 0 && [.claimed, .awaitingReply, .complained].contains(state) { continue }
            let line = "  \(state.rawValue.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(count).leftPad(9))  \(String(format: "%6.2f%%", percentages[state.rawValue] ?? 0))"
            lines.append(count > 0 ? paint(line, colours[state] ?? "0") : line)
        }
        lines.append("  \("total".padding(toLength: width, withPad: " ", startingAt: 0))  \(String(total).leftPad(9))")
        lines.append("")
        lines.append(String(format: "Delivered %.2f%% · hard bounces %.2f%% · soft %.2f%% · complaints %.2f%%",
                            deliveryRate * 100, hardBounceRate * 100, softBounceRate * 100, complaintRate * 100))
        lines.append(String(format: "%d attempts in %.1f s · %.1f messages/s · busiest minute %d accepted",
                            attempts, elapsedSeconds, ratePerSecond, throughput.map(\.accepted).max() ?? 0))
        lines.append(attemptsInWords)
        if !suppressed.isEmpty {
            lines.append("Suppressed by this campaign: " + suppressed.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key == "smtp" ? "refused at SMTP time" : $0.key)" }.joined(separator: ", "))
        }
        if !domains.isEmpty {
            lines.append("")
            lines.append("  domain                          sent  accepted  deferred    failed   bounced  most common problem")
            for domain in domains {
                lines.append("  \(TerminalText.padded(String(domain.domain.prefix(28)), to: 28))\(String(domain.messages).leftPad(8))\(String(domain.accepted).leftPad(10))\(String(domain.deferred).leftPad(10))\(String(domain.failed).leftPad(10))\(String(domain.bounced).leftPad(10))  \(Self.problemInWords(domain.commonProblem).map(t) ?? "")")
            }
        }
        if !reasons.isEmpty {
            lines.append("")
            lines.append("  reason                             state        count  example")
            for reason in reasons.prefix(20) {
                lines.append("  \(TerminalText.padded(t(FailureReason.words(for: reason.reason)), to: 34)) \(reason.state.padding(toLength: 10, withPad: " ", startingAt: 0))\(String(reason.count).leftPad(7))  \(reason.example.map { t(String($0.prefix(60))) } ?? "")")
            }
        }
        let notReached = problems.filter { $0.state != "unknown" }
        if !notReached.isEmpty {
            lines.append("")
            lines.append("  Recipients not reached (\(notReached.count == 1000 ? "the first 1,000" : String(notReached.count))):")
            for problem in notReached.prefix(20) {
                lines.append("    \(TerminalText.padded(t(problem.recipient), to: 36)) \(problem.state.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t(problem.words ?? ""))")
            }
            if notReached.count > 20 { lines.append("    … and \(notReached.count - 20) more (report --json or --csv lists them all)") }
        }
        if !unknown.isEmpty {
            lines.append("")
            lines.append(paint("  \(unknown.count) message(s) may or may not have been delivered (the connection was lost after the end of DATA):", "35"))
            for entry in unknown.prefix(20) { lines.append("    \(t(entry.recipient))") }
            lines.append("  Check with the recipients or the relay's logs; 'broadside retry \(t(campaign)) --unknown' sends them again (same Message-ID).")
        }
        return lines.joined(separator: "\n")
    }

    /// One row per message: address, state, attempts, last SMTP code, enhanced status, reply,
    /// reason, timestamps. With a BOM and RFC 4180 quoting, so that Excel opens it right.
    public static func csv(campaign: CampaignRecord, store: Store, into output: FileHandle) throws {
        var buffer = Data([0xEF, 0xBB, 0xBF])
        buffer.append(Data(("recipient,state,attempts,smtp_code,enhanced_status,reply,reason,first_attempt_at,last_attempt_at,updated_at\r\n").utf8))
        try store.forEachMessage(of: campaign.id) { row in
            let fields = [row.recipient, row.state, String(row.attempts), row.smtpCode.map(String.init) ?? "", row.enhancedStatus ?? "",
                          row.reply ?? "", row.reason ?? "", row.firstAttemptAt.map(Timestamp.iso) ?? "", row.lastAttemptAt.map(Timestamp.iso) ?? "",
                          Timestamp.iso(row.updatedAt)]
            buffer.append(Data((CSVWriter.spreadsheetRecord(fields) + "\r\n").utf8))
            if buffer.count > 1 << 16 {
                output.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        output.write(buffer)
    }

    /// Two campaigns side by side: totals, rates and timing.
    public static func comparison(_ a: CampaignReport, _ b: CampaignReport) -> String {
        func row(_ name: String, _ x: String, _ y: String) -> String {
            "  \(name.padding(toLength: 22, withPad: " ", startingAt: 0))\(x.leftPad(16))\(y.leftPad(16))"
        }
        var lines = [row("", TerminalText.inert(a.campaign), TerminalText.inert(b.campaign)), row("total", "\(a.total)", "\(b.total)")]
        for state in stateOrder where (a.totals[state.rawValue] ?? 0) + (b.totals[state.rawValue] ?? 0) > 0 {
            lines.append(row(state.rawValue, "\(a.totals[state.rawValue] ?? 0)", "\(b.totals[state.rawValue] ?? 0)"))
        }
        for (name, x, y) in [("delivery rate", a.deliveryRate, b.deliveryRate), ("hard bounce rate", a.hardBounceRate, b.hardBounceRate),
                             ("complaint rate", a.complaintRate, b.complaintRate)] {
            lines.append(row(name, String(format: "%.2f%%", x * 100), String(format: "%.2f%%", y * 100)))
        }
        lines.append(row("messages/s", String(format: "%.1f", a.ratePerSecond), String(format: "%.1f", b.ratePerSecond)))
        lines.append(row("elapsed", String(format: "%.1f s", a.elapsedSeconds), String(format: "%.1f s", b.elapsedSeconds)))
        return lines.joined(separator: "\n")
    }

    static func rounded(_ value: Double, places: Int) -> Double {
        let scale = pow(10.0, Double(places))
        return (value * scale).rounded() / scale
    }
}

/// ISO 8601 UTC times in reports.
enum Timestamp {
    static func iso(_ seconds: Double) -> String { MessageDate.iso8601(secondsSince1970: seconds) }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
