import Bounces
import Delivery
import Foundation
import GRDB

/// What recording one bounce did.
public enum BounceEffect: Sendable, Equatable {
    /// Already recorded (the same message fetched or imported again).
    case duplicate
    /// Kept, but it matches no message of any campaign.
    case unmatched
    /// Matched to a message; `suppressed` when its address went onto the suppression list.
    case matched(message: Int64, campaign: String, suppressed: Bool)
}

extension Store {
    /// Records a bounce once, matches it to its message (the VERP return path it came back
    /// to, the Message-ID of the returned original, else the latest message to that
    /// recipient within `recentWindow`), moves
    /// that message to `bounced` or `complained`, and applies the suppression policy.
    /// Sender-side failures never suppress a recipient; a delay changes no state.
    /// `fingerprint` identifies the bounce (its bytes and recipient) so that it is recorded once;
    /// `source` says where it came from (a file, `imap://…;UID=n`). Auto-replies and
    /// delivery notices are not for this: the caller leaves them alone.
    /// `byMessageID` and `byRecipient` say which evidence may match it besides a verified
    /// return path (none for a forged one; the recipient alone only when the operator allows).
    public func recordBounce(_ bounce: BounceReport, source: String, fingerprint: String, verpMessage: Int64? = nil,
                             byMessageID: Bool = true, byRecipient: Bool = false,
                             policy: SuppressionPolicy, now: Double, recentWindow: Double = 60 * 86_400) throws -> BounceEffect {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM bounces WHERE fingerprint = ?)", arguments: [fingerprint]) == true {
                return .duplicate
            }
            // The evidence in the order the library gives it (BounceEvidence): one query each.
            var match: Row?
            let select = "SELECT m.id, m.state, m.campaign_id, c.name, m.recipient FROM messages m JOIN campaigns c ON c.id = m.campaign_id"
            for evidence in BounceEvidence.inOrder(for: bounce, verpMessage: verpMessage, byMessageID: byMessageID, byRecipient: byRecipient) where match == nil {
                switch evidence {
                case .message(let id):
                    match = try Row.fetchOne(db, sql: "\(select) WHERE m.id = ?", arguments: [id])
                case .messageID(let messageID):
                    match = try Row.fetchOne(db, sql: "\(select) WHERE m.message_id = ?", arguments: [messageID])
                case .recipient(let recipient):
                    match = try Row.fetchOne(db, sql: """
                        \(select) WHERE lower(m.recipient) = lower(?) AND m.state IN ('accepted', 'unknown', 'bounced', 'deferred')
                          AND coalesce(m.last_attempt_at, m.updated_at) >= ?
                        ORDER BY coalesce(m.last_attempt_at, m.updated_at) DESC LIMIT 1
                        """, arguments: [recipient, now - recentWindow])
                }
            }
            let messageRowID: Int64? = match?["id"]
            try db.execute(sql: """
                INSERT INTO bounces (received_at, source, fingerprint, message_id, recipient, action, status, reply_code, reason, hard, diagnostic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [now, source, fingerprint, messageRowID, bounce.recipient, bounce.action, bounce.status,
                                 bounce.replyCode, bounce.reason.rawValue, bounce.hard, bounce.diagnostic])
            guard let match, let messageRowID else { return .unmatched }
            let campaignID: Int64 = match["campaign_id"]
            let address: String = match["recipient"]
            let state: String = match["state"]

            // What it does, as the library decides it (BounceConsequence).
            let consequence = try BounceConsequence.of(bounce, policy: policy) {
                try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM bounces b JOIN messages m ON m.id = b.message_id
                    WHERE lower(m.recipient) = lower(?) AND b.hard = 0 AND b.action IS NOT 'delayed' AND b.received_at >= ?
                      AND b.reason NOT IN (\(BounceConsequence.reasonsNotCounted.map { "'\($0)'" }.joined(separator: ",")))
                    """, arguments: [address, now - policy.softWindow]) ?? 0
            }
            if let newState = consequence.newState, let current = MessageState(rawValue: state), current.canMove(to: newState) || current == newState {
                try db.execute(sql: """
                    UPDATE messages SET state = ?, reason = ?, enhanced_status = coalesce(?, enhanced_status), smtp_code = coalesce(?, smtp_code),
                        reply = coalesce(?, reply), updated_at = ? WHERE id = ?
                    """, arguments: [newState.rawValue, bounce.reason.rawValue, bounce.status, bounce.replyCode, bounce.diagnostic, now, messageRowID])
                try db.execute(sql: """
                    INSERT INTO events (message_id, campaign_id, at, state, smtp_code, enhanced_status, reply, reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [messageRowID, campaignID, now, newState.rawValue, bounce.replyCode, bounce.status, bounce.diagnostic,
                                     bounce.reason.rawValue])
            }
            let suppress = consequence.suppression.map { (reason: $0.reason, source: $0.source) }
            var suppressed = false
            if let suppress {
                // The contact's normalised address, as every other suppression takes it.
                try db.execute(sql: """
                    INSERT INTO suppressions (address, reason, source, campaign_id, created_at)
                    SELECT c.address, ?, ?, ?, ? FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE m.id = ?
                    ON CONFLICT(address) DO NOTHING
                    """, arguments: [suppress.reason, suppress.source, campaignID, now, messageRowID])
                suppressed = db.changesCount > 0
            }
            return .matched(message: messageRowID, campaign: match["name"], suppressed: suppressed)
        }
    }

    /// Bounces that matched no message, newest first.
    public func unmatchedBounces(limit: Int = 100) throws -> [(at: Double, source: String, recipient: String?, reason: String?, diagnostic: String?)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT received_at, source, recipient, reason, diagnostic FROM bounces WHERE message_id IS NULL ORDER BY received_at DESC LIMIT ?",
                             arguments: [limit]).map { ($0["received_at"], $0["source"], $0["recipient"], $0["reason"], $0["diagnostic"]) }
        }
    }

    /// Where `bounces fetch` stopped in a mailbox: its UIDVALIDITY and the last UID processed.
    public func mailboxCursor(_ mailbox: String) throws -> (uidValidity: Int64, lastUID: Int64)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT uid_validity, last_uid FROM mailbox_cursors WHERE mailbox = ?", arguments: [mailbox])
                .map { ($0["uid_validity"], $0["last_uid"]) }
        }
    }

    public func setMailboxCursor(_ mailbox: String, uidValidity: Int64, lastUID: Int64) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO mailbox_cursors (mailbox, uid_validity, last_uid) VALUES (?, ?, ?)
                ON CONFLICT(mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid
                """, arguments: [mailbox, uidValidity, lastUID])
        }
    }
}
