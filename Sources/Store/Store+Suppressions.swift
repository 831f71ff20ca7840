import GRDB

/// An address never to be mailed again, and why.
public struct Suppression: Sendable, Codable, Equatable {
    public var address: String
    public var reason: String
    public var source: String
    public var campaign: String?
    public var createdAt: Double

    enum CodingKeys: String, CodingKey {
        case address, reason, source, campaign
        case createdAt = "created_at"
    }
}

extension Store {
    /// Adds entries (normalised addresses) with one reason; returns how many were new.
    @discardableResult
    public func suppress(_ addresses: [String], reason: String, source: String, campaignID: Int64? = nil, now: Double) throws -> Int {
        try suppress(addresses.map { ($0, reason) }, source: source, campaignID: campaignID, now: now)
    }

    /// Adds entries, each with its reason, in one transaction; an address already there
    /// keeps its first entry. Returns how many were new.
    @discardableResult
    public func suppress(_ entries: [(address: String, reason: String)], source: String, campaignID: Int64? = nil, now: Double) throws -> Int {
        try write { db in
            var added = 0
            let statement = try db.cachedStatement(sql: """
                INSERT INTO suppressions (address, reason, source, campaign_id, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(address) DO NOTHING
                """)
            for (address, reason) in entries {
                try statement.execute(arguments: [address, reason, source, campaignID, now])
                added += db.changesCount
            }
            return added
        }
    }

    /// Removes entries; returns how many there were.
    @discardableResult
    public func unsuppress(_ addresses: [String]) throws -> Int {
        try write { db in
            var removed = 0
            for address in addresses {
                try db.execute(sql: "DELETE FROM suppressions WHERE address = ?", arguments: [address])
                removed += db.changesCount
            }
            return removed
        }
    }

    public func suppressions() throws -> [Suppression] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.address, s.reason, s.source, c.name AS campaign, s.created_at
                FROM suppressions s LEFT JOIN campaigns c ON c.id = s.campaign_id ORDER BY s.address
                """).map { row in
                Suppression(address: row["address"], reason: row["reason"], source: row["source"], campaign: row["campaign"], createdAt: row["created_at"])
            }
        }
    }
}

extension Store {
    /// Unsubscribes (one-click, RFC 8058, or by mail), many in one transaction: suppresses the address
    /// of each (campaign, message), naming the campaign. For each, whether there was such a
    /// message. Repeating one changes nothing.
    public func unsubscribe(_ requests: [(campaign: Int64, message: Int64)], source: String = "one-click", now: Double) throws -> [Bool] {
        try write { db in
            let find = try db.cachedStatement(sql: "SELECT c.address FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE m.id = ? AND m.campaign_id = ?")
            let suppress = try db.cachedStatement(sql: """
                INSERT INTO suppressions (address, reason, source, campaign_id, created_at) VALUES (?, 'unsubscribed', ?, ?, ?)
                ON CONFLICT(address) DO NOTHING
                """)
            return try requests.map { request in
                guard let address = try String.fetchOne(find, arguments: [request.message, request.campaign]) else { return false }
                try suppress.execute(arguments: [address, source, request.campaign, now])
                return true
            }
        }
    }

    /// The campaign's template source, for the language of its unsubscribe page.
    public func templateSource(ofCampaign campaign: Int64) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT template_source FROM campaigns WHERE id = ?", arguments: [campaign]) }
    }
}

extension Store {
    /// Whether the address (normalised) is on the suppression list.
    public func isSuppressed(_ address: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM suppressions WHERE address = ?)", arguments: [address]) ?? false
        }
    }

    /// The addresses suppressed since the entry `after` (a rowid; 0 for all), and the last rowid
    /// seen: what a running send polls so that an unsubscribe stops mail already rendered.
    public func suppressions(after rowID: Int64) throws -> (last: Int64, addresses: [String]) {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, address FROM suppressions WHERE rowid > ? ORDER BY rowid", arguments: [rowID])
            return (rows.last?[0] ?? rowID, rows.map { $0[1] })
        }
    }

    /// The highest rowid of the suppression list now.
    public func lastSuppression() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM suppressions") ?? 0 }
    }
}

extension Store {
    /// How many addresses a campaign put on the suppression list, by source.
    public func suppressionsBySource(campaignID: Int64) throws -> [String: Int] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT source, count(*) AS n FROM suppressions WHERE campaign_id = ? GROUP BY source",
                                                              arguments: [campaignID]).map { ($0["source"] as String, $0["n"] as Int) })
        }
    }
}
