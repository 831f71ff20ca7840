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
    public func engagement(of campaignID: Int64) throws -> EngagementFigures {
        try read { db in
            var figures = EngagementFigures()
            if let row = try Row.fetchOne(db, sql: """
                SELECT coalesce(sum(po OR pc), 0) AS opened, coalesce(sum(pc), 0) AS clicked,
                       coalesce(sum(NOT (po OR pc) AND (mo OR mc)), 0) AS machine_opened, coalesce(sum(NOT pc AND mc), 0) AS machine_clicked,
                       coalesce(sum(opens), 0) AS opens, coalesce(sum(clicks), 0) AS clicks, coalesce(sum(machines), 0) AS machines
                FROM (SELECT message_id,
                             max(kind = 'open' AND machine = 0) AS po, max(kind = 'click' AND machine = 0) AS pc,
                             max(kind = 'open' AND machine = 1) AS mo, max(kind = 'click' AND machine = 1) AS mc,
                             sum(kind = 'open') AS opens, sum(kind = 'click') AS clicks, sum(machine) AS machines
                      FROM tracking_events WHERE campaign_id = ? GROUP BY message_id)
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
                SELECT link, sum(machine = 0) AS clicks, count(DISTINCT CASE WHEN machine = 0 THEN message_id END) AS clickers,
                       sum(machine = 1) AS machines
                FROM tracking_events WHERE campaign_id = ? AND kind = 'click' GROUP BY link ORDER BY link
                """, arguments: [campaignID]).map {
                LinkFigures(link: $0["link"], clicks: $0["clicks"], uniqueClickers: $0["clickers"], machineRequests: $0["machines"])
            }
            figures.machines = try Row.fetchAll(db, sql: """
                SELECT agent, count(*) AS n FROM tracking_events WHERE campaign_id = ? AND machine = 1 GROUP BY agent ORDER BY n DESC, agent
                """, arguments: [campaignID]).map { ($0["agent"], $0["n"]) }
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
                SELECT message_id, max(machine = 0) AS opened, max(kind = 'click' AND machine = 0) AS clicked
                FROM tracking_events WHERE campaign_id = ? GROUP BY message_id
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
