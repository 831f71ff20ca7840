import Crypto
import Foundation
import GRDB

/// What forgetting a person removed.
public struct ForgetReport: Sendable, Codable, Equatable {
    public var address: String
    /// Lists they were in (their membership and fields are gone).
    public var lists = 0
    /// Messages sent to them (kept for the campaigns' counts, without address, fields or replies).
    public var messages = 0
    public var bounces = 0
    /// Opens and clicks recorded for their messages.
    public var trackingEvents = 0
    public var replies = 0
    /// "kept as a hash", "none".
    public var suppression = "none"
}

extension Store {
    /// Forgets a person (`address` normalised): their list memberships and fields, their
    /// address in campaigns, events and bounces. Message rows stay, anonymised, so that the
    /// campaigns' counts do not change. A suppression becomes a hash (SHA-256 of the address),
    /// which an import checks new addresses against. Nil when nothing is known of them.
    public func forget(address: String, now: Double) throws -> ForgetReport? {
        try write { db in
            // Deleted and overwritten content is zeroed in the file, not left in free space.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
            let hash = Self.forgottenHash(address)
            var report = ForgetReport(address: address)
            let contact = try Int64.fetchOne(db, sql: "SELECT id FROM contacts WHERE address = ?", arguments: [address])
            if let contact {
                try db.execute(sql: "DELETE FROM list_members WHERE contact_id = ?", arguments: [contact])
                report.lists = db.changesCount
                let messages = try Int64.fetchAll(db, sql: "SELECT id FROM messages WHERE contact_id = ?", arguments: [contact])
                report.messages = messages.count
                for message in messages {
                    try db.execute(sql: "DELETE FROM bounces WHERE message_id = ?", arguments: [message])
                    report.bounces += db.changesCount
                    try db.execute(sql: "UPDATE events SET reply = NULL WHERE message_id = ?", arguments: [message])
                    // What they opened and clicked, and their replies, go with them.
                    try db.execute(sql: "DELETE FROM tracking_events WHERE message_id = ?", arguments: [message])
                    report.trackingEvents += db.changesCount
                    try db.execute(sql: "DELETE FROM engagement WHERE message_id = ?", arguments: [message])
                    try db.execute(sql: "DELETE FROM link_engagement WHERE message_id = ?", arguments: [message])
                    try db.execute(sql: "DELETE FROM replies WHERE message_id = ?", arguments: [message])
                    report.replies += db.changesCount
                }
                try db.execute(sql: """
                    UPDATE messages SET recipient = 'forgotten-' || id || '@forgotten.invalid', fields = '{}', reply = NULL WHERE contact_id = ?
                    """, arguments: [contact])
                // The contact row stays (messages point at it), holding nothing of the person.
                try db.execute(sql: """
                    UPDATE contacts SET address = 'forgotten-' || id || '@forgotten.invalid', smtp_address = NULL, display_address = NULL,
                        fields = '{}', updated_at = ? WHERE id = ?
                    """, arguments: [now, contact])
            }
            try db.execute(sql: "DELETE FROM bounces WHERE lower(recipient) = ?", arguments: [address])
            report.bounces += db.changesCount
            try db.execute(sql: "DELETE FROM suppressions WHERE address = ?", arguments: [address])
            if db.changesCount > 0 {
                try db.execute(sql: "INSERT INTO forgotten (hash, created_at) VALUES (?, ?) ON CONFLICT(hash) DO NOTHING", arguments: [hash, now])
                report.suppression = "kept as a hash"
            }
            return contact == nil && report.suppression == "none" && report.bounces == 0 ? nil : report
        }
    }

    /// The hashes of forgotten, suppressed addresses.
    static func forgottenHashes(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT hash FROM forgotten"))
    }

    /// SHA-256 of a normalised address, in hex.
    static func forgottenHash(_ address: String) -> String {
        SHA256.hash(data: Data(address.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
