import Delivery
import Foundation
import Store

/// The campaign report: what happened, from the database alone.
public struct CampaignReport: Sendable, Codable {
    public var campaign: String
    public var list: String
    public var template: String
    public var templateHash: String
    public var status: String
    public var statusReason: String?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Messages in the campaign.
    public var total: Int
    /// Messages in each state, every state listed.
    public var totals: [String: Int]
    /// Accepted, out of the messages that were not skipped.
    public var deliveryRate: Double
    public var attempts: Int
    /// From the first attempt to the last.
    public var elapsedSeconds: Double
    /// Accepted messages per second over that time.
    public var ratePerSecond: Double

    enum CodingKeys: String, CodingKey {
        case campaign, list, template, status, total, totals, attempts
        case templateHash = "template_hash"
        case statusReason = "status_reason"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case deliveryRate = "delivery_rate"
        case elapsedSeconds = "elapsed_s"
        case ratePerSecond = "rate_per_s"
    }

    public init(campaign: CampaignRecord, store: Store) throws {
        let figures = try store.figures(of: campaign.id)
        self.campaign = campaign.name
        self.list = campaign.listName
        self.template = campaign.templatePath
        self.templateHash = campaign.templateHash
        self.status = campaign.status.rawValue
        self.statusReason = campaign.statusReason
        self.createdAt = Self.iso(campaign.createdAt)
        self.startedAt = campaign.startedAt.map(Self.iso)
        self.finishedAt = campaign.finishedAt.map(Self.iso)
        self.total = figures.total
        var totals: [String: Int] = [:]
        for state in MessageState.allCases { totals[state.rawValue] = figures.counts[state] ?? 0 }
        self.totals = totals
        let accepted = (figures.counts[.accepted] ?? 0) + (figures.counts[.bounced] ?? 0) + (figures.counts[.complained] ?? 0)
        let eligible = figures.total - (figures.counts[.skipped] ?? 0)
        self.deliveryRate = eligible > 0 ? Self.rounded(Double(figures.counts[.accepted] ?? 0) / Double(eligible), places: 4) : 0
        self.attempts = figures.attempts
        let elapsed = max(0, (figures.lastAttemptAt ?? 0) - (figures.firstAttemptAt ?? 0))
        self.elapsedSeconds = Self.rounded(elapsed, places: 3)
        self.ratePerSecond = elapsed > 0 ? Self.rounded(Double(accepted) / elapsed, places: 1) : 0
    }

    /// An aligned table for a terminal; coloured only when asked (a terminal without NO_COLOR).
    public func table(colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var lines = [
            "Campaign \(campaign)  (list \(list), template \(template) #\(templateHash.prefix(8)))",
            "Status   \(status)\(statusReason.map { " — \($0)" } ?? "")",
            "",
        ]
        let order: [(MessageState, String)] = [(.accepted, "32"), (.bounced, "31"), (.complained, "31"), (.failed, "31"),
                                               (.deferred, "33"), (.unknown, "35"), (.skipped, "90"), (.queued, "0"),
                                               (.claimed, "0"), (.awaitingReply, "0")]
        let width = order.map { $0.0.rawValue.count }.max() ?? 10
        for (state, code) in order {
            let count = totals[state.rawValue] ?? 0
            if count == 0 && [.claimed, .awaitingReply, .complained].contains(state) { continue }
            let share = total > 0 ? Double(count) * 100 / Double(total) : 0
            let name = state.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
            let line = "  \(name)  \(String(count).leftPad(8))  \(String(format: "%5.1f%%", share))"
            lines.append(count > 0 ? paint(line, code) : line)
        }
        lines.append("  \("total".padding(toLength: width, withPad: " ", startingAt: 0))  \(String(total).leftPad(8))")
        lines.append("")
        lines.append(String(format: "Delivered %.1f%% of %d sendable · %d attempts in %.1f s · %.1f messages/s",
                            deliveryRate * 100, total - (totals["skipped"] ?? 0), attempts, elapsedSeconds, ratePerSecond))
        return lines.joined(separator: "\n")
    }

    static func iso(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func rounded(_ value: Double, places: Int) -> Double {
        let scale = pow(10.0, Double(places))
        return (value * scale).rounded() / scale
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
