import GRDB

/// What one relay of a campaign did: its attempts and their outcomes, how long it took to
/// answer the end of DATA, and how long and why it was out of rotation.
public struct RelayFigures: Sendable, Codable, Equatable {
    public var relay: String
    public var attempts: Int
    public var accepted: Int
    public var deferred: Int
    public var failed: Int
    public var unknown: Int
    /// Seconds from the end of DATA to the server's reply: the median and the 99th percentile.
    public var replyP50: Double?
    public var replyP99: Double?
    public var secondsOutOfRotation: Double
    /// Why it left rotation, the latest first (each reason once).
    public var outBecause: [String]

    enum CodingKeys: String, CodingKey {
        case relay, attempts, accepted, deferred, failed, unknown
        case replyP50 = "reply_p50_s", replyP99 = "reply_p99_s"
        case secondsOutOfRotation = "out_of_rotation_s", outBecause = "out_because"
    }
}

extension Store {
    /// Each named relay's figures for a campaign, in the order given (a relay that never
    /// carried a message, left out from the start, is there too). `now` ends periods still open.
    public func relayFigures(of campaignID: Int64, relays: [String], now: Double) throws -> [RelayFigures] {
        try read { db in
            var counts: [String: [Int]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT relay, count(*), sum(state = 'accepted'), sum(state = 'deferred'), sum(state = 'failed'), sum(state = 'unknown'),
                       count(reply_seconds)
                FROM events WHERE campaign_id = ? AND relay IS NOT NULL GROUP BY relay
                """, arguments: [campaignID]) {
                counts[row[0]] = (1...6).map { row[$0] }
            }
            return try relays.map { relay in
                let figures = counts[relay] ?? [0, 0, 0, 0, 0, 0]
                func percentile(_ p: Double) throws -> Double? {
                    let timed = figures[5]
                    guard timed > 0 else { return nil }
                    return try Double.fetchOne(db, sql: """
                        SELECT reply_seconds FROM events WHERE campaign_id = ? AND relay = ? AND reply_seconds IS NOT NULL
                        ORDER BY reply_seconds LIMIT 1 OFFSET ?
                        """, arguments: [campaignID, relay, Int((Double(timed - 1) * p).rounded())])
                }
                let out = try Double.fetchOne(db, sql: """
                    SELECT sum(coalesce(back_at, max(out_at, ?)) - out_at) FROM relay_periods WHERE campaign_id = ? AND relay = ?
                    """, arguments: [now, campaignID, relay]) ?? 0
                var reasons: [String] = []
                for reason in try String.fetchAll(db, sql: "SELECT reason FROM relay_periods WHERE campaign_id = ? AND relay = ? ORDER BY out_at DESC",
                                                  arguments: [campaignID, relay]) where !reasons.contains(reason) {
                    reasons.append(reason)
                }
                return RelayFigures(relay: relay, attempts: figures[0], accepted: figures[1], deferred: figures[2], failed: figures[3],
                                    unknown: figures[4], replyP50: try percentile(0.5), replyP99: try percentile(0.99),
                                    secondsOutOfRotation: out, outBecause: reasons)
            }
        }
    }
}

/// A relay out of rotation in a campaign being sent now: since when and why.
public struct RelayOut: Sendable, Equatable {
    public var campaign: String
    public var relay: String
    public var since: Double
    public var reason: String
}

extension Store {
    /// The relays out of rotation now, in every campaign being sent (their periods still open), the latest first.
    public func relaysOutNow() throws -> [RelayOut] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.name, p.relay, p.out_at, p.reason FROM relay_periods p JOIN campaigns c ON c.id = p.campaign_id
                WHERE p.back_at IS NULL AND c.status = 'active' ORDER BY p.out_at DESC LIMIT 50
                """).map { RelayOut(campaign: $0[0], relay: $0[1], since: $0[2], reason: $0[3]) }
        }
    }
}
