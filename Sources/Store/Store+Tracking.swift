import GRDB

/// What `serve` needs to answer a tracked link: whose message it is and when the server took it.
public struct TrackedMessage: Sendable {
    public var campaignID: Int64
    public var fields: [String: String]
    /// When the server accepted it (nil: never accepted, or not known).
    public var acceptedAt: Double?
}

/// One request for a tracked link or open image, as recorded.
public struct TrackingVisit: Sendable, Equatable {
    public enum Kind: String, Sendable { case click, open }

    public var campaignID: Int64
    public var message: Int64
    public var kind: Kind
    public var link: Int?
    public var at: Double
    public var machine: Bool
    /// A person's program family, or the rule that named a machine.
    public var agent: String

    public init(campaignID: Int64, message: Int64, kind: Kind, link: Int?, at: Double, machine: Bool, agent: String) {
        self.campaignID = campaignID
        self.message = message
        self.kind = kind
        self.link = link
        self.at = at
        self.machine = machine
        self.agent = agent
    }
}

extension Store {
    public func campaign(id: Int64) throws -> CampaignRecord? {
        try campaigns().first { $0.id == id }
    }

    /// The message a token names, if it belongs to `campaignID`.
    public func trackedMessage(_ message: Int64, campaignID: Int64) throws -> TrackedMessage? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT fields FROM messages WHERE id = ? AND campaign_id = ?",
                                             arguments: [message, campaignID]) else { return nil }
            let accepted = try Double.fetchOne(db, sql: "SELECT min(at) FROM events WHERE message_id = ? AND state = 'accepted'", arguments: [message])
            return TrackedMessage(campaignID: campaignID, fields: FieldsJSON.decode(row["fields"]) ?? [:], acceptedAt: accepted)
        }
    }

    /// Records requests, many in one transaction (`serve` batches them).
    public func recordVisits(_ visits: [TrackingVisit]) throws {
        guard !visits.isEmpty else { return }
        try write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO tracking_events (campaign_id, message_id, kind, link, at, machine, agent) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for visit in visits {
                try statement.execute(arguments: [visit.campaignID, visit.message, visit.kind.rawValue, visit.link, visit.at, visit.machine, visit.agent])
            }
        }
    }
}
