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
    public var domains: [DomainFigures]
    public var reasons: [ReasonFigures]
    /// Accepted messages per minute: (minute start, count), in order.
    public var acceptedPerMinute: [(minute: Double, count: Int)]
    /// Accepted messages over time in bins that fit the campaign's length (a second for a
    /// campaign of a minute, an hour for one of a week): the bin's width in seconds and the bins.
    public var acceptedOverTime: (binSeconds: Double, bins: [(start: Double, count: Int)])
    /// How many messages needed 1, 2, 3 or more attempts (index 0: none yet).
    public var attemptsHistogram: [Int]
    public var hardBounces: Int
    public var softBounces: Int
    public var unknown: [(recipient: String, detail: String?)]
    /// The first 1,000 recipients that failed, bounced, complained or have no known outcome.
    public var problems: [ProblemRecipient]
}

public struct DomainFigures: Sendable, Codable, Equatable {
    public var domain: String
    public var messages: Int
    public var accepted: Int
    public var deferred: Int
    public var failed: Int
    public var bounced: Int
    /// The reply most messages to this domain got, when any failed or waited.
    public var commonReply: String?
    /// The reason most of the domain's messages that were not delivered share, and how many.
    public var commonProblem: CommonProblem?
    /// Recipients of the domain a person opened for, and who clicked (when the campaign tracked them).
    public var opened = 0
    public var clicked = 0

    public struct CommonProblem: Sendable, Codable, Equatable {
        public var reason: String
        public var count: Int
    }

    enum CodingKeys: String, CodingKey {
        case domain, messages, accepted, deferred, failed, bounced, opened, clicked
        case commonReply = "common_reply"
        case commonProblem = "common_problem"
    }
}

public struct ReasonFigures: Sendable, Codable, Equatable {
    public var reason: String
    public var state: String
    public var count: Int
    public var example: String?
}

extension Store {
    /// Every figure of the report: aggregate queries over the campaign's rows (indexed by campaign).
    public func figures(of campaignID: Int64, topDomains: Int = 20) throws -> CampaignFigures {
        try read { db in
            let counts = try Self.counts(db, campaignID: campaignID)
            // One pass over the messages (not over the twice as many events).
            let tally = try MessageTally(db, campaignID: campaignID)
            var domains = tally.byMessages
            if domains.count > topDomains {
                let rest = domains[topDomains...]
                domains = Array(domains[..<topDomains]) + [DomainFigures(
                    domain: "other (\(rest.count) domains)", messages: rest.reduce(0) { $0 + $1.messages }, accepted: rest.reduce(0) { $0 + $1.accepted },
                    deferred: rest.reduce(0) { $0 + $1.deferred }, failed: rest.reduce(0) { $0 + $1.failed }, bounced: rest.reduce(0) { $0 + $1.bounced },
                    commonReply: nil)]
            }
            var common: [String: (reply: String, count: Int)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT substr(recipient, instr(recipient, '@') + 1) AS domain, reply, count(*) AS n FROM messages
                WHERE campaign_id = ? AND state NOT IN ('accepted', 'queued', 'claimed', 'skipped') AND reply IS NOT NULL
                GROUP BY domain, reply
                """, arguments: [campaignID]) {
                let domain: String = row["domain"], n: Int = row["n"]
                if n > common[domain]?.count ?? 0 { common[domain] = (row["reply"], n) }
            }
            for index in domains.indices { domains[index].commonReply = common[domains[index].domain]?.reply }
            // The most common problem: by reason, over the messages that were not delivered (a domain
            // with 284 of 286 accepted says what befell the other two, and that it was two).
            var problems: [String: DomainFigures.CommonProblem] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT substr(recipient, instr(recipient, '@') + 1) AS domain, reason, count(*) AS n FROM messages
                WHERE campaign_id = ? AND state IN ('failed', 'bounced', 'complained', 'deferred', 'unknown') AND reason IS NOT NULL
                GROUP BY domain, reason
                """, arguments: [campaignID]) {
                let domain: String = row["domain"], n: Int = row["n"]
                if n > problems[domain]?.count ?? 0 { problems[domain] = .init(reason: row["reason"], count: n) }
            }
            for index in domains.indices { domains[index].commonProblem = problems[domains[index].domain] }
            // What people did, by domain (from the engagement tallies: one row per recipient who did anything).
            let engaged = tally.engagedByDomain
            let named = Set(domains.map(\.domain))
            for index in domains.indices {
                if let figures = engaged[domains[index].domain] {
                    domains[index].opened = figures.opened
                    domains[index].clicked = figures.clicked
                } else if domains[index].domain.hasPrefix("other (") {
                    // The "other" row: what the domains not listed did.
                    let rest = engaged.filter { !named.contains($0.key) }.values
                    domains[index].opened = rest.reduce(0) { $0 + $1.opened }
                    domains[index].clicked = rest.reduce(0) { $0 + $1.clicked }
                }
            }

            let reasons = try Row.fetchAll(db, sql: """
                SELECT coalesce(reason, 'unknown') AS reason, state, count(*) AS n, max(reply) AS example FROM messages
                WHERE campaign_id = ? AND state IN ('failed', 'bounced', 'complained', 'deferred', 'unknown', 'skipped')
                GROUP BY reason, state ORDER BY n DESC
                """, arguments: [campaignID]).map { ReasonFigures(reason: $0["reason"], state: $0["state"], count: $0["n"], example: $0["example"]) }

            // Accepted per minute, by when each message was accepted (later bounces do not move it).
            let perMinute = tally.acceptedPerMinute.sorted { $0.key < $1.key }.map { (minute: $0.key, count: $0.value) }
            let bin = Self.binSeconds(span: (tally.last ?? 0) - (tally.first ?? 0))
            let overTime = try tally.accepted(inBinsOf: bin) ?? Row.fetchAll(db, sql: """
                SELECT CAST(last_attempt_at / ? AS INTEGER) * ? AS start, count(*) AS n FROM messages
                WHERE campaign_id = ? AND state IN ('accepted', 'bounced', 'complained') GROUP BY start ORDER BY start
                """, arguments: [bin, bin, campaignID]).map { (start: $0["start"] as Double, count: $0["n"] as Int) }
            let bounceRow = try Row.fetchOne(db, sql: """
                SELECT sum(b.hard = 1) AS hard, sum(b.hard = 0) AS soft FROM bounces b JOIN messages m ON m.id = b.message_id
                WHERE m.campaign_id = ? AND m.state = 'bounced' AND b.action IS NOT 'delayed'
                """, arguments: [campaignID])
            let unknown = try Row.fetchAll(db, sql: "SELECT recipient, reply FROM messages WHERE campaign_id = ? AND state = 'unknown' ORDER BY id LIMIT 1000",
                                           arguments: [campaignID]).map { (recipient: $0["recipient"] as String, detail: $0["reply"] as String?) }
            let problemRecipients = try Row.fetchAll(db, sql: """
                SELECT recipient, state, reason, reply FROM messages WHERE campaign_id = ? AND state IN ('failed', 'bounced', 'complained', 'unknown')
                ORDER BY id LIMIT 1000
                """, arguments: [campaignID]).map { ProblemRecipient(recipient: $0["recipient"], state: $0["state"], reason: $0["reason"], reply: $0["reply"]) }
            return CampaignFigures(counts: counts, total: counts.values.reduce(0, +), attempts: tally.attempts,
                                   firstAttemptAt: tally.first, lastAttemptAt: tally.last, domains: domains, reasons: reasons,
                                   acceptedPerMinute: perMinute, acceptedOverTime: (bin, overTime), attemptsHistogram: tally.histogram,
                                   hardBounces: bounceRow?["hard"] ?? 0, softBounces: bounceRow?["soft"] ?? 0, unknown: unknown,
                                   problems: problemRecipients)
        }
    }

    /// The smallest usual width that draws the campaign in at most 120 bins.
    static func binSeconds(span: Double) -> Double {
        let widths: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
        return widths.first { span / $0 <= 120 } ?? 86400
    }

    /// The attempts made since `since`: when the first and the last were, and how many were
    /// accepted, so that `send` says a run's rate as the report says a campaign's (accepted ÷
    /// the time from the first attempt to the last).
    public func attemptSpan(campaignID: Int64, since: Double) throws -> (first: Double?, last: Double?, accepted: Int) {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT min(at) AS first, max(at) AS last, coalesce(sum(state = 'accepted'), 0) AS accepted FROM events
                WHERE campaign_id = ? AND at >= ? AND state IN ('accepted', 'deferred', 'failed', 'unknown')
                """, arguments: [campaignID, since])
            return (row?["first"], row?["last"], row?["accepted"] ?? 0)
        }
    }

    /// One row per message for the CSV report, in order; `body` is called row by row.
    public func forEachMessage(of campaignID: Int64, _ body: (MessageRow) throws -> Void) throws {
        try read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT id, recipient, state, attempts, smtp_code, enhanced_status, reply, reason, first_attempt_at, last_attempt_at, updated_at, fields
                FROM messages WHERE campaign_id = ? ORDER BY id
                """, arguments: [campaignID])
            while let row = try cursor.next() {
                try body(MessageRow(id: row["id"], fields: FieldsJSON.decode(row["fields"]) ?? [:], recipient: row["recipient"], state: row["state"], attempts: row["attempts"], smtpCode: row["smtp_code"],
                                    enhancedStatus: row["enhanced_status"], reply: row["reply"], reason: row["reason"],
                                    firstAttemptAt: row["first_attempt_at"], lastAttemptAt: row["last_attempt_at"], updatedAt: row["updated_at"]))
            }
        }
    }
}

/// A recipient whose message failed, bounced, was complained about or has no known outcome.
public struct ProblemRecipient: Sendable {
    public var recipient: String
    public var state: String
    public var reason: String?
    public var reply: String?
}

/// A message's last state, for the CSV report.
public struct MessageRow: Sendable {
    public var id: Int64
    /// The recipient's merge fields, frozen with the campaign.
    public var fields: [String: String]
    public var recipient: String
    public var state: String
    public var attempts: Int
    public var smtpCode: Int?
    public var enhancedStatus: String?
    public var reply: String?
    public var reason: String?
    public var firstAttemptAt: Double?
    public var lastAttemptAt: Double?
    public var updatedAt: Double
}
