import GRDB

/// What recipients did with a campaign's messages: opens and clicks (people and machines
/// apart), replies. Counts are of messages (one per recipient), except where it says requests.
public struct EngagementFigures: Sendable {
    /// Messages a person opened: an open image fetched by a person, or a link a person clicked
    /// (a click shows the message was open even when its images were blocked).
    public var openedByPeople = 0
    /// Messages whose image or links only machines fetched (proxies, scanners): not counted as opened.
    public var openedByMachinesOnly = 0
    public var clickedByPeople = 0
    /// Messages whose links only machines followed.
    public var clickedByMachinesOnly = 0
    /// Requests, all of them.
    public var openRequests = 0
    public var clickRequests = 0
    public var machineRequests = 0
    public var links: [LinkFigures] = []
    /// Messages with a person's reply, and replies and auto-replies counted.
    public var repliedMessages = 0
    public var replies = 0
    public var autoReplies = 0
    /// Requests by machine rule, most first.
    public var machines: [(rule: String, requests: Int)] = []
}

public struct LinkFigures: Sendable, Codable, Equatable {
    /// The link's number in the message (its place among the message's links).
    public var link: Int
    /// Clicks by people, and how many recipients clicked it.
    public var clicks: Int
    public var uniqueClickers: Int
    /// Requests by machines.
    public var machineRequests: Int

    enum CodingKeys: String, CodingKey {
        case link, clicks
        case uniqueClickers = "unique_clickers"
        case machineRequests = "machine_requests"
    }
}

/// One recipient's engagement, for the CSV report.
public struct RecipientEngagement: Sendable, Equatable {
    public var opened = false
    public var clicked = false
    public var replied = false

    public init() {}
}

extension Store {
    /// Read from the tallies the database keeps as requests are recorded (schema v7's
    /// trigger): one row per recipient who did anything, not one per request.
    public func engagement(of campaignID: Int64) throws -> EngagementFigures {
        try read { db in
            var figures = EngagementFigures()
            if let row = try Row.fetchOne(db, sql: """
                SELECT coalesce(sum(person_open OR person_click), 0) AS opened, coalesce(sum(person_click), 0) AS clicked,
                       coalesce(sum(NOT (person_open OR person_click) AND (machine_open OR machine_click)), 0) AS machine_opened,
                       coalesce(sum(NOT person_click AND machine_click), 0) AS machine_clicked,
                       coalesce(sum(opens), 0) AS opens, coalesce(sum(clicks), 0) AS clicks, coalesce(sum(machine_requests), 0) AS machines
                FROM engagement WHERE campaign_id = ?
                """, arguments: [campaignID]) {
                figures.openedByPeople = row["opened"]
                figures.clickedByPeople = row["clicked"]
                figures.openedByMachinesOnly = row["machine_opened"]
                figures.clickedByMachinesOnly = row["machine_clicked"]
                figures.openRequests = row["opens"]
                figures.clickRequests = row["clicks"]
                figures.machineRequests = row["machines"]
            }
            figures.links = try Row.fetchAll(db, sql: """
                SELECT link, sum(clicks) AS clicks, sum(clicks > 0) AS clickers, sum(machine_requests) AS machines
                FROM link_engagement WHERE campaign_id = ? GROUP BY link ORDER BY link
                """, arguments: [campaignID]).map {
                LinkFigures(link: $0["link"], clicks: $0["clicks"], uniqueClickers: $0["clickers"], machineRequests: $0["machines"])
            }
            figures.machines = try Row.fetchAll(db, sql: """
                SELECT rule, requests FROM machine_requests WHERE campaign_id = ? ORDER BY requests DESC, rule
                """, arguments: [campaignID]).map { ($0["rule"], $0["requests"]) }
            if let row = try Row.fetchOne(db, sql: """
                SELECT coalesce(sum(r.automatic = 0), 0) AS replies, coalesce(sum(r.automatic = 1), 0) AS auto,
                       count(DISTINCT CASE WHEN r.automatic = 0 THEN r.message_id END) AS replied
                FROM replies r JOIN messages m ON m.id = r.message_id WHERE m.campaign_id = ?
                """, arguments: [campaignID]) {
                figures.replies = row["replies"]
                figures.autoReplies = row["auto"]
                figures.repliedMessages = row["replied"]
            }
            return figures
        }
    }

    /// Each message's engagement by message id, for the CSV report (only messages with any).
    public func recipientEngagement(of campaignID: Int64) throws -> [Int64: RecipientEngagement] {
        try read { db in
            var result: [Int64: RecipientEngagement] = [:]
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT message_id, person_open OR person_click AS opened, person_click AS clicked FROM engagement WHERE campaign_id = ?
                """, arguments: [campaignID])
            while let row = try cursor.next() {
                result[row["message_id"], default: RecipientEngagement()].opened = row["opened"]
                result[row["message_id"], default: RecipientEngagement()].clicked = row["clicked"]
            }
            for id in try Int64.fetchAll(db, sql: """
                SELECT DISTINCT r.message_id FROM replies r JOIN messages m ON m.id = r.message_id WHERE m.campaign_id = ? AND r.automatic = 0
                """, arguments: [campaignID]) {
                result[id, default: RecipientEngagement()].replied = true
            }
            return result
        }
    }
}

/// What the dashboard shows beside each campaign's states.
public struct DashboardFigures: Sendable {
    /// Recipients a person opened for and clicked, and who replied, by campaign.
    public var opened: [Int64: Int] = [:]
    public var clicked: [Int64: Int] = [:]
    public var replied: [Int64: Int] = [:]
    public var suppressed = 0
    /// The latest unsubscribes: address, how (one-click, mailto), the campaign's name, when.
    public var recentUnsubscribes: [(address: String, source: String, campaign: String?, at: Double)] = []
}

extension Store {
    public func dashboardFigures(recent: Int = 10) throws -> DashboardFigures {
        try read { db in
            var figures = DashboardFigures()
            for row in try Row.fetchAll(db, sql: """
                SELECT campaign_id, sum(person_open OR person_click) AS opened, sum(person_click) AS clicked FROM engagement GROUP BY campaign_id
                """) {
                figures.opened[row["campaign_id"]] = row["opened"]
                figures.clicked[row["campaign_id"]] = row["clicked"]
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT m.campaign_id, count(DISTINCT r.message_id) AS n FROM replies r JOIN messages m ON m.id = r.message_id
                WHERE r.automatic = 0 GROUP BY m.campaign_id
                """) {
                figures.replied[row["campaign_id"]] = row["n"]
            }
            figures.suppressed = try Int.fetchOne(db, sql: "SELECT count(*) FROM suppressions") ?? 0
            figures.recentUnsubscribes = try Row.fetchAll(db, sql: """
                SELECT s.address, s.source, c.name, s.created_at FROM suppressions s LEFT JOIN campaigns c ON c.id = s.campaign_id
                WHERE s.source IN ('one-click', 'mailto') ORDER BY s.created_at DESC LIMIT ?
                """, arguments: [recent]).map { ($0["address"], $0["source"], $0["name"], $0["created_at"]) }
            return figures
        }
    }
}
