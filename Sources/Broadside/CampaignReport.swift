import CSV
import Delivery
import Engine
import Foundation
import Engagement
import Messages
import Signing
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
    /// Accepted over time, in bins that fit the campaign's length.
    public var timeline: Timeline

    public struct Timeline: Sendable, Codable, Equatable {
        public var binSeconds: Double
        public var bins: [Bin]

        public struct Bin: Sendable, Codable, Equatable {
            public var start: String
            public var accepted: Int
        }

        enum CodingKeys: String, CodingKey {
            case bins
            case binSeconds = "bin_s"
        }
    }
    /// How many messages needed 1, 2, or 3 and more attempts.
    public var retries: Retries
    public var unknown: [Unknown]
    /// Recipients that failed, bounced, complained or have no known outcome, with the reason in words.
    public var problems: [Problem]
    /// Addresses this campaign put on the suppression list, by source: `smtp` (refused at
    /// SMTP time as dead), `bounce`, `complaint`, `one-click`, `mailto`.
    public var suppressed: [String: Int]
    /// Opens, clicks, replies, unsubscribes and complaints: people and machines apart.
    public var engagement: Engagement
    /// Each relay's figures, when the campaign has several (a profile's `relays:`).
    public var relays: [RelayFigures]?

    /// What recipients did (README, "The report": each figure's definition).
    public struct Engagement: Sendable, Codable, Equatable {
        /// What the campaign tracked: `clicks`, `opens` (replies are counted whenever they are fetched).
        public var tracked: [String]
        /// Messages delivered (accepted, not bounced): what the rates are out of.
        public var delivered: Int
        /// Recipients who opened (a person fetched the image or clicked a link), and who clicked.
        public var uniqueOpens: Int
        public var uniqueClicks: Int
        public var openRate: Double
        public var clickRate: Double
        /// Unique clicks out of unique opens.
        public var clickToOpenRate: Double
        public var machines: Machines
        /// People's replies, the recipients who replied, and auto-replies (out of office …).
        public var replies: Int
        public var repliedRecipients: Int
        public var autoReplies: Int
        /// One-click and mailto unsubscribes, and complaints.
        public var unsubscribes: Int
        public var complaints: Int
        public var links: [Link]

        public struct Machines: Sendable, Codable, Equatable {
            /// Messages whose image or links only machines fetched (not counted as opened or clicked).
            public var openedOnly: Int
            public var clickedOnly: Int
            public var requests: Int
            /// Requests by the rule that named the machine.
            public var byRule: [String: Int]

            enum CodingKeys: String, CodingKey {
                case requests
                case openedOnly = "opened_only", clickedOnly = "clicked_only", byRule = "by_rule"
            }
        }

        public struct Link: Sendable, Codable, Equatable {
            public var link: Int
            /// Where it goes, without its query (which may hold a recipient's values).
            public var destination: String?
            public var clicks: Int
            public var uniqueClickers: Int
            public var machineRequests: Int

            enum CodingKeys: String, CodingKey {
                case link, destination, clicks
                case uniqueClickers = "unique_clickers", machineRequests = "machine_requests"
            }
        }

        enum CodingKeys: String, CodingKey {
            case tracked, delivered, machines, replies, links, unsubscribes, complaints
            case uniqueOpens = "unique_opens", uniqueClicks = "unique_clicks", openRate = "open_rate", clickRate = "click_rate"
            case clickToOpenRate = "click_to_open_rate", repliedRecipients = "replied_recipients", autoReplies = "auto_replies"
        }
    }

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
        case campaign, list, template, profile, status, total, totals, percentages, attempts, domains, reasons, throughput, timeline, retries, unknown, suppressed
        case problems, engagement, relays
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
        self.timeline = Timeline(binSeconds: figures.acceptedOverTime.binSeconds,
                                 bins: figures.acceptedOverTime.bins.map { Timeline.Bin(start: Timestamp.iso($0.start), accepted: $0.count) })
        self.retries = Retries(one: figures.attemptsHistogram[1], two: figures.attemptsHistogram[2], threeOrMore: figures.attemptsHistogram[3])
        self.unknown = figures.unknown.map { Unknown(recipient: $0.recipient, detail: $0.detail) }
        self.problems = figures.problems.map {
            Problem(recipient: $0.recipient, state: $0.state, reason: $0.reason, words: $0.reason.map(FailureReason.words(for:)), reply: $0.reply)
        }
        self.suppressed = try store.suppressionsBySource(campaignID: campaign.id)
        if let names = (try? CampaignSettings(json: campaign.settings))?.relays?.map(\.name) {
            self.relays = try store.relayFigures(of: campaign.id, relays: names, now: Date().timeIntervalSince1970)
        }
        let delivered = reached - (figures.counts[.bounced] ?? 0)
        let activity = try store.engagement(of: campaign.id)
        let destinations = activity.links.isEmpty ? [:] : Self.linkDestinations(campaign: campaign, store: store)
        self.engagement = Engagement(
            tracked: (try? CampaignSettings(json: campaign.settings))?.track ?? [], delivered: delivered,
            uniqueOpens: activity.openedByPeople, uniqueClicks: activity.clickedByPeople,
            openRate: rate(activity.openedByPeople, of: delivered), clickRate: rate(activity.clickedByPeople, of: delivered),
            clickToOpenRate: rate(activity.clickedByPeople, of: activity.openedByPeople),
            machines: Engagement.Machines(openedOnly: activity.openedByMachinesOnly, clickedOnly: activity.clickedByMachinesOnly,
                                          requests: activity.machineRequests,
                                          byRule: Dictionary(activity.machines.map { ($0.rule, $0.requests) }, uniquingKeysWith: +)),
            replies: activity.replies, repliedRecipients: activity.repliedMessages, autoReplies: activity.autoReplies,
            unsubscribes: (suppressed["one-click"] ?? 0) + (suppressed["mailto"] ?? 0), complaints: figures.counts[.complained] ?? 0,
            links: activity.links.map {
                Engagement.Link(link: $0.link, destination: destinations[$0.link], clicks: $0.clicks,
                                uniqueClickers: $0.uniqueClickers, machineRequests: $0.machineRequests)
            })
    }

    /// Each link's destination without its query, read from the first message as the campaign
    /// rendered it. A stand-in unsubscribe address keeps the links numbered as they were sent
    /// (the real one needs the secret, which a report does not).
    /// Signs the stand-in unsubscribe links only: no token made with it leaves the report.
    static let numberingKey = String(repeating: "n", count: 32)

    static func linkDestinations(campaign: CampaignRecord, store: Store) -> [Int: String] {
        guard let settings = try? CampaignSettings(json: campaign.settings),
              let template = try? CampaignTemplate(source: campaign.templateSource, path: campaign.templatePath),
              let first = try? store.frozenRecipient(campaignID: campaign.id, row: 1) else { return [:] }
        var extras = MessageExtras(unsubscribeURL: settings.unsubscribeURL, unsubscribeMailto: settings.unsubscribeMailto)
        if settings.unsubscribeURL != nil || settings.unsubscribeMailto != nil { extras.tokens = UnsubscribeToken(secret: Self.numberingKey) }
        guard let bodies = try? PersonalMessage(template: template, extras: extras).untrackedBodies(fields: first.fields, campaign: campaign.id, message: 0) else {
            return [:]
        }
        func withoutQuery(_ url: String) -> String {
            guard var parts = URLComponents(string: url) else { return url }
            parts.query = nil
            parts.fragment = nil
            return parts.string ?? url
        }
        var destinations: [Int: String] = [:]
        for (number, link) in TrackedLinks.links(in: bodies.html ?? "").enumerated() { destinations[number] = withoutQuery(link.url) }
        for (offset, link) in TextLinks.links(in: bodies.text ?? "").enumerated() { destinations[TextLinks.firstNumber + offset] = withoutQuery(link.url) }
        return destinations
    }

    /// Opens, clicks and replies, when the campaign tracked them or has replies.
    func engagementLines(_ w: TableWords) -> [String] {
        let e = engagement
        guard !e.tracked.isEmpty || e.replies + e.autoReplies > 0 else { return [] }
        func percent(_ rate: Double) -> String { String(format: "%.2f%%", rate * 100) }
        var lines = [""]
        var figures: [String] = []
        if e.tracked.contains("opens") || e.tracked.contains("clicks") {
            figures.append("\(w.opened) \(e.uniqueOpens) (\(percent(e.openRate)))")
        }
        if e.tracked.contains("clicks") {
            figures.append("\(w.clicked) \(e.uniqueClicks) (\(percent(e.clickRate)))")
            figures.append("\(w.clickToOpen) \(percent(e.clickToOpenRate))")
        }
        figures.append("\(w.replied) \(e.repliedRecipients)\(e.autoReplies > 0 ? w.autoReplies(e.autoReplies) : "")")
        figures.append("\(w.unsubscribed) \(e.unsubscribes)")
        figures.append("\(w.complaints) \(e.complaints)")
        lines.append(w.people + figures.joined(separator: " · ") + w.ofDelivered(e.delivered))
        if e.machines.requests > 0 {
            let rules = e.machines.byRule.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append(w.machines(e.machines.requests, rules, e.machines.openedOnly, e.machines.clickedOnly))
        }
        if !e.links.isEmpty {
            lines.append(Self.columns([(w.linkColumns[0], 6, true), (w.linkColumns[1], 46, false), (w.linkColumns[2], 8, true),
                                       (w.linkColumns[3], 10, true), (w.linkColumns[4], 10, true)]))
            for link in e.links {
                lines.append(Self.columns([(String(link.link), 6, true), (String((link.destination ?? "?").prefix(44)), 46, false),
                                           (String(link.clicks), 8, true), (String(link.uniqueClickers), 10, true),
                                           (String(link.machineRequests), 10, true)]))
            }
        }
        return lines
    }

    /// Each relay: what it carried, how fast it answered, how long and why it was out of rotation.
    func relayLines(_ w: ReportWords) -> [String] {
        guard let relays, !relays.isEmpty else { return [] }
        let c = w.relayColumns
        var lines = ["", Self.columns([(c[0], 14, false), (c[1], 8, true), (c[2], 10, true), (c[3], 10, true), (c[4], 8, true), (c[5], 9, true),
                                      (c[6], 11, true), (c[7], 11, true), (c[8], 17, true)]) + "  " + c[9]]
        for relay in relays {
            lines.append(Self.columns([(String(relay.relay.prefix(13)), 14, false), (String(relay.attempts), 8, true), (String(relay.accepted), 10, true),
                                       (String(relay.deferred), 10, true), (String(relay.failed), 8, true), (String(relay.unknown), 9, true),
                                       (Self.milliseconds(relay.replyP50), 11, true), (Self.milliseconds(relay.replyP99), 11, true),
                                       (String(format: "%.0f s", relay.secondsOutOfRotation), 17, true)])
                         + "  " + String(relay.outBecause.first?.prefix(90) ?? ""))
        }
        return lines
    }

    /// Seconds as milliseconds for people (`12 ms`), or `-` when there is no figure.
    static func milliseconds(_ seconds: Double?) -> String {
        seconds.map { String(format: "%.0f ms", $0 * 1000) } ?? "-"
    }

    /// One line of columns: (text, width, aligned right), widths as a terminal shows them
    /// (a Chinese character takes two); the first column is indented by two.
    static func columns(_ cells: [(String, Int, Bool)]) -> String {
        "  " + cells.map { text, width, right in
            let pad = String(repeating: " ", count: max(0, width - TerminalText.width(text)))
            return right ? pad + text : text + pad
        }.joined()
    }

    public static let stateOrder: [MessageState] = [.accepted, .bounced, .complained, .failed, .deferred, .unknown, .skipped, .queued, .claimed, .awaitingReply]

    /// An aligned table for a terminal, in the report's language; coloured only when asked
    /// (a terminal without NO_COLOR).
    public func table(colour: Bool, language: ReportLanguage = .english) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        let colours: [MessageState: String] = [.accepted: "32", .bounced: "31", .complained: "31", .failed: "31", .deferred: "33", .unknown: "35", .skipped: "90"]
        let w = language.table, words = language.words
        // Whatever came from outside (names, replies, addresses) is shown, never obeyed by the terminal.
        let t = TerminalText.inert
        var lines = [
            w.heading(t(campaign), t(list), t(template), String(templateHash.prefix(8)), profile.map(t)),
            w.status(status, statusReason.map(t), startedAt ?? "-", finishedAt ?? "-"),
            "",
        ]
        let width = Self.stateOrder.map { TerminalText.width(words.state($0.rawValue)) }.max() ?? 10
        for state in Self.stateOrder {
            let count = totals[state.rawValue] ?? 0
            if count == 0 && [.claimed, .awaitingReply, .complained].contains(state) { continue }
            let line = "  \(TerminalText.padded(words.state(state.rawValue), to: width))  \(String(count).leftPad(9))  \(String(format: "%6.2f%%", percentages[state.rawValue] ?? 0))"
            lines.append(count > 0 ? paint(line, colours[state] ?? "0") : line)
        }
        lines.append("  \(TerminalText.padded(w.total, to: width))  \(String(total).leftPad(9))")
        lines.append("")
        func percent(_ rate: Double) -> String { String(format: "%.2f%%", rate * 100) }
        lines.append(w.rates(percent(deliveryRate), percent(hardBounceRate), percent(softBounceRate), percent(complaintRate)))
        lines.append(w.pace(attempts, elapsedSeconds, ratePerSecond, throughput.map(\.accepted).max() ?? 0))
        lines.append(words.attempts(retries.one, retries.two, retries.threeOrMore))
        if !suppressed.isEmpty {
            lines.append(w.suppressedBy + suppressed.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key == "smtp" ? w.refusedAtSMTP : $0.key)" }.joined(separator: ", "))
        }
        lines += engagementLines(w).map(t)
        lines += relayLines(words).map(t)
        if !domains.isEmpty {
            let tracked = !engagement.tracked.isEmpty
            lines.append("")
            let names = w.domainColumns + (tracked ? w.openedClicked : [])
            lines.append(Self.columns([(names[0], 28, false)] + names.dropFirst().enumerated().map { ($1, $0 == 0 ? 8 : 10, true) })
                         + "  " + words.mostCommonProblem)
            for domain in domains {
                let numbers = [domain.messages, domain.accepted, domain.deferred, domain.failed, domain.bounced] + (tracked ? [domain.opened, domain.clicked] : [])
                let problem = domain.commonProblem.map { "\(words.reason($0.reason)) (\($0.count))" } ?? ""
                lines.append(Self.columns([(String(domain.domain.prefix(28)), 28, false)] + numbers.enumerated().map { (String($1), $0 == 0 ? 8 : 10, true) })
                             + "  " + t(problem))
            }
        }
        if !reasons.isEmpty {
            lines.append("")
            lines.append(Self.columns([(w.reasonColumns[0], 35, false), (w.reasonColumns[1], 10, false), (w.reasonColumns[2], 7, true), ("", 2, false), (w.reasonColumns[3], 0, false)]))
            for reason in reasons.prefix(20) {
                lines.append(Self.columns([(String(t(words.reason(reason.reason)).prefix(34)), 35, false), (words.state(reason.state), 10, false),
                                           (String(reason.count), 7, true), ("", 2, false), (reason.example.map { t(String($0.prefix(60))) } ?? "", 0, false)]))
            }
        }
        let notReached = problems.filter { $0.state != "unknown" }
        if !notReached.isEmpty {
            lines.append("")
            lines.append("  " + w.notReached(notReached.count == 1000 ? w.firstThousand : String(notReached.count)))
            for problem in notReached.prefix(20) {
                lines.append("  " + Self.columns([(t(problem.recipient), 37, false), (words.state(problem.state), 11, false), (t(words.reason(problem.reason)), 0, false)]))
            }
            if notReached.count > 20 { lines.append("    " + w.more(notReached.count - 20)) }
        }
        if !unknown.isEmpty {
            lines.append("")
            lines.append(paint("  " + w.unknown(unknown.count), "35"))
            for entry in unknown.prefix(20) { lines.append("    \(t(entry.recipient))") }
            lines.append("  " + w.unknownAdvice(t(campaign)))
        }
        return lines.joined(separator: "\n")
    }

    /// One row per message: address, state, attempts, last SMTP code, enhanced status, reply,
    /// reason, timestamps. With a BOM and RFC 4180 quoting, so that Excel opens it right.
    /// With the list's name columns (`name`, `first_name`, `company_name` …) and what the
    /// recipient did (opened, clicked, replied: people only).
    public static func csv(campaign: CampaignRecord, store: Store, into output: FileHandle) throws {
        var buffer = Data([0xEF, 0xBB, 0xBF])
        let names = (try store.list(named: campaign.listName))?.columns.filter { $0.lowercased().contains("name") } ?? []
        let engagement = try store.recipientEngagement(of: campaign.id)
        let header = ["recipient"] + names + ["state", "reason_in_words", "opened", "clicked", "replied", "attempts", "smtp_code", "enhanced_status",
                                              "reply", "reason", "first_attempt_at", "last_attempt_at", "updated_at"]
        buffer.append(Data((CSVWriter.spreadsheetRecord(header) + "\r\n").utf8))
        func yes(_ flag: Bool) -> String { flag ? "yes" : "" }
        try store.forEachMessage(of: campaign.id) { row in
            let did = engagement[row.id] ?? RecipientEngagement()
            let fields = [row.recipient] + names.map { name in row.fields.first { $0.key.lowercased() == name.lowercased() }?.value ?? "" }
                + [row.state, row.reason.map(FailureReason.words(for:)) ?? "", yes(did.opened), yes(did.clicked), yes(did.replied),
                   String(row.attempts), row.smtpCode.map(String.init) ?? "", row.enhancedStatus ?? "",
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

    /// One figure of two campaigns, and B's difference from A (rates in percentage points).
    public struct ComparedFigure: Sendable, Codable, Equatable {
        public var figure: String
        public var a: Double
        public var b: Double
        public var difference: Double
        /// `count`, `rate` (a fraction, shown in percent), `per_second` or `seconds`.
        public var unit: String

        func shown(_ value: Double) -> String {
            switch unit {
            case "rate": return String(format: "%.2f%%", value * 100)
            case "per_second": return String(format: "%.1f/s", value)
            case "seconds": return String(format: "%.1f s", value)
            default: return String(Int(value))
            }
        }

        var shownDifference: String {
            let sign = difference > 0 ? "+" : ""
            switch unit {
            case "rate": return sign + String(format: "%.2f", difference * 100) + " pt"
            case "per_second": return sign + String(format: "%.1f/s", difference)
            case "seconds": return sign + String(format: "%.1f s", difference)
            default: return sign + String(Int(difference))
            }
        }
    }

    /// The figures two campaigns are compared by, in the order every form shows them.
    public static func compared(_ a: CampaignReport, _ b: CampaignReport) -> [ComparedFigure] {
        func row(_ name: String, _ unit: String, _ value: (CampaignReport) -> Double) -> ComparedFigure {
            let (x, y) = (value(a), value(b))
            return ComparedFigure(figure: name, a: x, b: y, difference: rounded(y - x, places: 6), unit: unit)
        }
        var rows = [row("messages", "count") { Double($0.total) }]
        for state in stateOrder where (a.totals[state.rawValue] ?? 0) + (b.totals[state.rawValue] ?? 0) > 0 {
            rows.append(row(state.rawValue, "count") { Double($0.totals[state.rawValue] ?? 0) })
        }
        rows += [
            row("delivery rate", "rate") { $0.deliveryRate }, row("hard bounce rate", "rate") { $0.hardBounceRate },
            row("complaint rate", "rate") { $0.complaintRate },
        ]
        if !(a.engagement.tracked + b.engagement.tracked).isEmpty {
            rows += [
                row("unique opens", "count") { Double($0.engagement.uniqueOpens) }, row("open rate", "rate") { $0.engagement.openRate },
                row("unique clicks", "count") { Double($0.engagement.uniqueClicks) }, row("click rate", "rate") { $0.engagement.clickRate },
                row("click-to-open rate", "rate") { $0.engagement.clickToOpenRate },
            ]
        }
        rows += [
            row("replied", "count") { Double($0.engagement.repliedRecipients) }, row("unsubscribed", "count") { Double($0.engagement.unsubscribes) },
            row("messages/s", "per_second") { $0.ratePerSecond }, row("elapsed", "seconds") { $0.elapsedSeconds },
        ]
        return rows
    }

    /// Two campaigns side by side, with B's difference from A.
    public static func comparison(_ a: CampaignReport, _ b: CampaignReport) -> String {
        func line(_ name: String, _ x: String, _ y: String, _ d: String) -> String {
            "  \(name.padding(toLength: 22, withPad: " ", startingAt: 0))\(x.leftPad(16))\(y.leftPad(16))\(d.leftPad(14))"
        }
        var lines = [line("", TerminalText.inert(a.campaign), TerminalText.inert(b.campaign), "difference")]
        for figure in compared(a, b) {
            lines.append(line(figure.figure, figure.shown(figure.a), figure.shown(figure.b), figure.shownDifference))
        }
        return lines.joined(separator: "\n")
    }

    /// The comparison as CSV (figure, A, B, difference; rates as fractions), for a spreadsheet.
    public static func comparisonCSV(_ a: CampaignReport, _ b: CampaignReport) -> String {
        var text = "\u{FEFF}" + CSVWriter.spreadsheetRecord(["figure", a.campaign, b.campaign, "difference", "unit"]) + "\r\n"
        for figure in compared(a, b) {
            text += CSVWriter.spreadsheetRecord([figure.figure, "\(figure.a)", "\(figure.b)", "\(figure.difference)", figure.unit]) + "\r\n"
        }
        return text
    }

    /// The comparison as one self-contained page, in the reader's language.
    public static func comparisonHTML(_ a: CampaignReport, _ b: CampaignReport, language: ReportLanguage) -> String {
        let w = language.words
        var page = """
            <!doctype html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(a.campaign)) / \(e(b.campaign)) — \(w.report)</title>
            <style>
            body{font-family:-apple-system,Segoe UI,Helvetica,Arial,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#222;overflow-wrap:anywhere}
            table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee}td.n{text-align:right}
            td.up{color:#2e7d32}td.down{color:#c62828}
            </style></head><body>
            <h1>\(e(a.campaign)) / \(e(b.campaign))</h1>
            <table id="comparison"><tr><th></th><th>\(e(a.campaign))</th><th>\(e(b.campaign))</th><th>±</th></tr>

            """
        for figure in compared(a, b) {
            let name = MessageState(rawValue: figure.figure) != nil ? w.state(figure.figure) : figure.figure
            let trend = figure.difference > 0 ? "up" : figure.difference < 0 ? "down" : ""
            page += "<tr><td>\(e(name))</td><td class=\"n\">\(figure.shown(figure.a))</td><td class=\"n\">\(figure.shown(figure.b))</td><td class=\"n \(trend)\">\(figure.shownDifference)</td></tr>\n"
        }
        return page + "</table>\n<p>\(w.madeBy)</p>\n</body></html>\n"
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
