import GRDB

/// What became of a message that answers one of ours.
public enum ReplyOutcome: Sendable, Equatable {
    /// Counted against our message (its id).
    case recorded(message: Int64)
    /// The same reply was counted before (fetched twice).
    case duplicate
    /// It names none of our messages.
    case unmatched
}

extension Store {
    /// Counts a reply (or, `automatic`, an auto-reply such as out-of-office) against the
    /// first of `messageIDs` that is one of ours. `source` identifies the reply itself (its
    /// own Message-ID, or a digest), so a reply fetched twice counts once.
    public func recordReply(to messageIDs: [String], automatic: Bool, source: String, now: Double) throws -> ReplyOutcome {
        try write { db in
            var ours: Int64?
            for id in messageIDs {
                if let found = try Int64.fetchOne(db, sql: "SELECT id FROM messages WHERE message_id = ?", arguments: [id]) {
                    ours = found
                    break
                }
            }
            guard let ours else { return .unmatched }
            try db.execute(sql: "INSERT OR IGNORE INTO replies (message_id, at, automatic, source) VALUES (?, ?, ?, ?)",
                           arguments: [ours, now, automatic, source])
            return db.changesCount == 0 ? .duplicate : .recorded(message: ours)
        }
    }
}
