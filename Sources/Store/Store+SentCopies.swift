import GRDB

/// A message whose copy belongs in the sender's Sent folder: the server accepted it, and
/// its copy is not recorded as appended.
public struct SentCopyDue: Sendable, Equatable {
    public var message: Int64
    /// The Message-ID (without angle brackets), which finds the copy in the folder.
    public var messageID: String
    /// An append was begun in an earlier run that did not record its end: the copy may be there.
    public var begun: Bool
}

extension Store {
    /// Up to `limit` copies due in the campaign, oldest acceptance first.
    public func sentCopiesDue(campaignID: Int64, limit: Int) throws -> [SentCopyDue] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.id, m.message_id, c.state AS copy FROM messages m
                LEFT JOIN sent_copies c ON c.message_id = m.id
                WHERE m.campaign_id = ? AND (c.state IS NULL OR c.state = 'appending')
                  AND EXISTS (SELECT 1 FROM events e WHERE e.message_id = m.id AND e.state = 'accepted')
                ORDER BY m.id LIMIT ?
                """, arguments: [campaignID, limit]).map {
                SentCopyDue(message: $0["id"], messageID: $0["message_id"], begun: ($0["copy"] as String?) == "appending")
            }
        }
    }

    /// Written before the appends of a batch begin.
    public func beginSentCopies(_ messages: [Int64], now: Double) throws {
        try write { db in
            for message in messages {
                try db.execute(sql: "INSERT OR REPLACE INTO sent_copies (message_id, state, at) VALUES (?, 'appending', ?)", arguments: [message, now])
            }
        }
    }

    /// Written once the folder holds the copies.
    public func finishSentCopies(_ messages: [Int64], now: Double) throws {
        try write { db in
            for message in messages {
                try db.execute(sql: "UPDATE sent_copies SET state = 'appended', at = ? WHERE message_id = ?", arguments: [now, message])
            }
        }
    }

    /// How many copies of the campaign are appended.
    public func sentCopiesAppended(campaignID: Int64) throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM sent_copies c JOIN messages m ON m.id = c.message_id
                WHERE m.campaign_id = ? AND c.state = 'appended'
                """, arguments: [campaignID]) ?? 0
        }
    }
}
