import Delivery
import GRDB

/// The figures of one campaign, straight from the message and event rows.
public struct CampaignFigures: Sendable {
    public var counts: [MessageState: Int]
    public var total: Int
    /// Attempts recorded (events that were delivery attempts).
    public var attempts: Int
    public var firstAttemptAt: Double?
    public var lastAttemptAt: Double?
}

extension Store {
    public func figures(of campaignID: Int64) throws -> CampaignFigures {
        try read { db in
            let counts = try Self.counts(db, campaignID: campaignID)
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*) AS attempts, min(at) AS first, max(at) AS last FROM events
                WHERE campaign_id = ? AND state IN ('accepted', 'deferred', 'failed', 'unknown') AND (smtp_code IS NOT NULL OR state <> 'failed')
                """, arguments: [campaignID])
            return CampaignFigures(counts: counts, total: counts.values.reduce(0, +), attempts: row?["attempts"] ?? 0,
                                   firstAttemptAt: row?["first"], lastAttemptAt: row?["last"])
        }
    }
}
