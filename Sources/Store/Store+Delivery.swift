import Delivery
import Foundation
import GRDB

/// A message taken from the queue for one attempt.
public struct ClaimedMessage: Sendable {
    public var id: Int64
    public var recipient: String
    public var displayAddress: String
    public var messageID: String
    public var returnPath: String
    public var attempts: Int
    public var firstAttemptAt: Double?
    /// The merge fields frozen for this recipient when the campaign was created.
    public var fields: [String: String]
}

/// An attempt's result as it is recorded: on the message and as an event.
public struct AttemptResult: Sendable, Equatable {
    public var message: Int64
    /// May differ from what the server said: a deferral that expired is `failed`.
    public var state: MessageState
    public var at: Double
    public var nextAttemptAt: Double?
    public var smtpCode: Int?
    public var enhancedStatus: String?
    /// The server's reply, or what happened instead (the connection was lost).
    public var reply: String
    public var reason: String?
    public var connection: Int
    /// The relay it went through, when the campaign has several.
    public var relay: String?
    /// How long the server took to answer the end of DATA.
    public var replySeconds: Double?

    public init(message: Int64, state: MessageState, at: Double, nextAttemptAt: Double? = nil, smtpCode: Int? = nil,
                enhancedStatus: String? = nil, reply: String, reason: String? = nil, connection: Int,
                relay: String? = nil, replySeconds: Double? = nil) {
        self.message = message
        self.state = state
        self.at = at
        self.nextAttemptAt = nextAttemptAt
        self.smtpCode = smtpCode
        self.enhancedStatus = enhancedStatus
        self.reply = reply
        self.reason = reason
        self.connection = connection
        self.relay = relay
        self.replySeconds = replySeconds
    }
}

/// An attempt a run had in flight when it stopped, from its in-flight log: `result` is
/// nil when the end of DATA had been sent and no reply recorded (possibly delivered).
public struct InFlightAttempt: Sendable, Equatable {
    public var message: Int64
    /// The message's attempts counting this one.
    public var attempt: Int
    public var connection: Int
    public var result: AttemptResult?

    public init(message: Int64, attempt: Int, connection: Int, result: AttemptResult?) {
        self.message = message
        self.attempt = attempt
        self.connection = connection
        self.result = result
    }
}

/// One change the delivery engine asks the store to make; written in batches.
public enum DeliveryRecord: Sendable {
    /// An attempt's result.
    case outcome(AttemptResult)
    /// Claimed but never attempted (the campaign stopped): back to the queue.
    case released(message: Int64)
    /// The message could not be made (a template or attachment problem): failed without an attempt.
    case notSent(message: Int64, reason: String, at: Double)
    /// Its address was suppressed after it was claimed: skipped, never sent.
    case skipped(message: Int64, reason: String, at: Double)
    /// It could not be made yet (its PDF attachment failed): deferred to `until`, no attempt counted.
    case postponed(message: Int64, reason: String, at: Double, until: Double)
    /// A relay left rotation (rests, or is left out for the run), with why.
    case relayOut(relay: String, reason: String, at: Double)
    /// A relay is back in rotation.
    case relayBack(relay: String, at: Double)
}

extension Store {
    /// Puts right what a previous run that died left: attempts its in-flight log knew
    /// the result of are recorded; those sent to the end of DATA without a reply become
    /// `unknown` (they may have been delivered); other claimed messages go back to the
    /// queue (they never reached the server). A message `awaiting_reply` in the
    /// database (written by earlier versions) is `unknown` too.
    @discardableResult
    /// `suppressDeadAddresses`: the suppression policy's `hard_bounces` (see `write`).
    public func recover(campaignID: Int64, inFlight: [InFlightAttempt] = [], now: Double,
                        suppressDeadAddresses: Bool = true) throws -> (requeued: Int, unknown: Int, recorded: Int) {
        try write { db in
            let reason = "the previous run stopped after the end of DATA, before the server's reply: possibly delivered"
            var unknown = 0, recorded = 0
            let current = try db.cachedStatement(sql: "SELECT state, attempts FROM messages WHERE id = ? AND campaign_id = ?")
            for attempt in inFlight {
                // Only the attempt the database has not recorded yet: the message is still claimed, one attempt behind.
                guard let row = try Row.fetchOne(current, arguments: [attempt.message, campaignID]),
                      let state = MessageState(rawValue: row["state"]), MessageState.beingSent.contains(state),
                      row["attempts"] as Int + 1 == attempt.attempt else { continue }
                if let result = attempt.result {
                    try Self.write(result, campaignID: campaignID, now: now, suppressDeadAddresses: suppressDeadAddresses, db)
                    recorded += 1
                } else {
                    try Self.write(AttemptResult(message: attempt.message, state: .unknown, at: now, reply: reason, reason: reason,
                                                 connection: attempt.connection), campaignID: campaignID, now: now,
                                   suppressDeadAddresses: suppressDeadAddresses, db)
                    unknown += 1
                }
            }
            try db.execute(sql: "UPDATE messages SET state = 'queued', updated_at = ? WHERE campaign_id = ? AND state = 'claimed'",
                           arguments: [now, campaignID])
            let requeued = db.changesCount
            try db.execute(sql: """
                INSERT INTO events (message_id, campaign_id, at, state, reason, connection)
                SELECT id, campaign_id, ?, 'unknown', ?, connection FROM messages WHERE campaign_id = ? AND state = 'awaiting_reply'
                """, arguments: [now, reason, campaignID])
            try db.execute(sql: "UPDATE messages SET state = 'unknown', reason = ?, updated_at = ? WHERE campaign_id = ? AND state = 'awaiting_reply'",
                           arguments: [reason, now, campaignID])
            return (requeued, unknown + db.changesCount, recorded)
        }
    }

    /// Claims up to `limit` due messages (queued, or deferred and due), skipping any
    /// whose address was suppressed since the campaign was created.
    public func claim(campaignID: Int64, limit: Int, now: Double) throws -> [ClaimedMessage] {
        try write { db in
            let select = """
                SELECT m.id, m.recipient, coalesce(c.display_address, m.recipient) AS display_address, m.message_id, m.return_path, m.attempts, m.first_attempt_at, m.fields,
                       s.reason AS suppressed_reason
                FROM messages m JOIN contacts c ON c.id = m.contact_id LEFT JOIN suppressions s ON s.address = c.address
                """
            var rows = try Row.fetchAll(db.cachedStatement(sql: """
                \(select) WHERE m.campaign_id = ? AND m.state = 'deferred' AND m.next_attempt_at <= ? ORDER BY m.next_attempt_at LIMIT ?
                """), arguments: [campaignID, now, limit])
            if rows.count < limit {
                rows += try Row.fetchAll(db.cachedStatement(sql: "\(select) WHERE m.campaign_id = ? AND m.state = 'queued' LIMIT ?"),
                                         arguments: [campaignID, limit - rows.count])
            }
            var claimed: [ClaimedMessage] = []
            claimed.reserveCapacity(rows.count)
            let claim = try FastStatement(db, cached: true, sql: "UPDATE messages SET state = 'claimed', updated_at = ? WHERE id = ?")
            let skip = try db.cachedStatement(sql: "UPDATE messages SET state = 'skipped', reason = ?, updated_at = ? WHERE id = ?")
            let skipEvent = try db.cachedStatement(sql: "INSERT INTO events (message_id, campaign_id, at, state, reason) VALUES (?, ?, ?, 'skipped', ?)")
            for row in rows {
                // By position, in the order of `select`: looking columns up by name costs more than the query.
                let id: Int64 = row[0]
                if let suppressed: String = row[8] {
                    let reason = "suppressed: \(suppressed)"
                    try skip.execute(arguments: [reason, now, id])
                    try skipEvent.execute(arguments: [id, campaignID, now, reason])
                    continue
                }
                try claim.execute(.real(now), .integer(id))
                claimed.append(ClaimedMessage(id: id, recipient: row[1], displayAddress: row[2], messageID: row[3], returnPath: row[4],
                                              attempts: row[5], firstAttemptAt: row[6], fields: FieldsJSON.decode(row[7]) ?? [:]))
            }
            return claimed
        }
    }

    /// The states of these messages (those that exist).
    public func states(of messages: [Int64]) throws -> [Int64: MessageState] {
        guard !messages.isEmpty else { return [:] }
        return try read { db in
            var states: [Int64: MessageState] = [:]
            for chunk in stride(from: 0, to: messages.count, by: 500).map({ Array(messages[$0..<min($0 + 500, messages.count)]) }) {
                let rows = try Row.fetchAll(db, sql: "SELECT id, state FROM messages WHERE id IN (\(chunk.map { _ in "?" }.joined(separator: ",")))",
                                            arguments: StatementArguments(chunk))
                for row in rows { if let state = MessageState(rawValue: row["state"]) { states[row["id"]] = state } }
            }
            return states
        }
    }

    /// Writes a batch of delivery records in one transaction (group commit).
    public func record(_ records: [DeliveryRecord], campaignID: Int64, now: Double, suppressDeadAddresses: Bool = true) throws {
        guard !records.isEmpty else { return }
        try write { db in
            let release = try db.cachedStatement(sql: "UPDATE messages SET state = 'queued', updated_at = ? WHERE id = ? AND state = 'claimed'")
            let notSent = try db.cachedStatement(sql: """
                UPDATE messages SET state = 'failed', reason = ?, reply = ?, updated_at = ? WHERE id = ? AND state = 'claimed'
                """)
            let event = try db.cachedStatement(sql: "INSERT INTO events (message_id, campaign_id, at, state, reply, reason) VALUES (?, ?, ?, 'failed', ?, ?)")
            let skip = try db.cachedStatement(sql: "UPDATE messages SET state = 'skipped', reason = ?, updated_at = ? WHERE id = ? AND state = 'claimed'")
            let skipEvent = try db.cachedStatement(sql: "INSERT INTO events (message_id, campaign_id, at, state, reason) VALUES (?, ?, ?, 'skipped', ?)")
            let postpone = try db.cachedStatement(sql: """
                UPDATE messages SET state = 'deferred', reason = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'claimed'
                """)
            let postponeEvent = try db.cachedStatement(sql: "INSERT INTO events (message_id, campaign_id, at, state, reason) VALUES (?, ?, ?, 'deferred', ?)")
            let relayOut = try db.cachedStatement(sql: "INSERT INTO relay_periods (campaign_id, relay, out_at, reason) VALUES (?, ?, ?, ?)")
            let relayBack = try db.cachedStatement(sql: "UPDATE relay_periods SET back_at = ? WHERE campaign_id = ? AND relay = ? AND back_at IS NULL")
            for record in records {
                switch record {
                case .outcome(let result):
                    try Self.write(result, campaignID: campaignID, now: now, suppressDeadAddresses: suppressDeadAddresses, db)
                case .released(let message):
                    try release.execute(arguments: [now, message])
                case .notSent(let message, let reason, let at):
                    try notSent.execute(arguments: [reason, reason, at, message])
                    try event.execute(arguments: [message, campaignID, at, reason, reason])
                case .skipped(let message, let reason, let at):
                    try skip.execute(arguments: [reason, at, message])
                    try skipEvent.execute(arguments: [message, campaignID, at, reason])
                case .postponed(let message, let reason, let at, let until):
                    try postpone.execute(arguments: [reason, until, at, message])
                    try postponeEvent.execute(arguments: [message, campaignID, at, reason])
                case .relayOut(let relay, let reason, let at):
                    try relayOut.execute(arguments: [campaignID, relay, at, reason])
                case .relayBack(let relay, let at):
                    try relayBack.execute(arguments: [at, campaignID, relay])
                }
            }
        }
    }

    /// Ends the periods out of rotation still open: at `now` when the run is over; at the
    /// campaign's last recorded event when a run that died left them open (`now` nil), so that
    /// the time between that run and the next does not count.
    public func closeRelayPeriods(campaignID: Int64, at now: Double?) throws {
        try write { db in
            let end = try now ?? Double.fetchOne(db, sql: "SELECT max(at) FROM events WHERE campaign_id = ?", arguments: [campaignID])
            try db.execute(sql: "UPDATE relay_periods SET back_at = max(out_at, coalesce(?, out_at)) WHERE campaign_id = ? AND back_at IS NULL",
                           arguments: [end, campaignID])
        }
    }

    /// An attempt's result on its message and as an event. Bound through SQLite's C API:
    /// this runs once per message sent.
    /// The states an attempt's result may land on, as SQL: a stale result never moves a message that is not being sent.
    private static let beingSent = MessageState.beingSent.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")

    /// A permanent refusal that says the address is dead (5.1.1 and the like) suppresses it
    /// at once, unless the policy says hard bounces do not (`suppressDeadAddresses` false).
    static func write(_ result: AttemptResult, campaignID: Int64, now: Double, suppressDeadAddresses: Bool = true, _ db: Database) throws {
        let message = try FastStatement(db, cached: true, sql: """
            UPDATE messages SET state = ?, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?),
                last_attempt_at = ?, next_attempt_at = ?, smtp_code = ?, enhanced_status = ?, reply = ?, reason = ?,
                connection = ?, updated_at = ?
            WHERE id = ? AND state IN (\(beingSent))
            """)
        let event = try FastStatement(db, cached: true, sql: """
            INSERT INTO events (message_id, campaign_id, at, state, smtp_code, enhanced_status, reply, reason, connection, relay, reply_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let state: FastStatement.Value = .text(result.state.rawValue)
        let code: FastStatement.Value = result.smtpCode.map { .integer(Int64($0)) } ?? .null
        let status: FastStatement.Value = result.enhancedStatus.map { .text($0) } ?? .null
        let reply: FastStatement.Value = .text(result.reply)
        let reason: FastStatement.Value = result.reason.map { .text($0) } ?? .null
        let connection: FastStatement.Value = .integer(Int64(result.connection))
        try message.execute(state, .real(result.at), .real(result.at), result.nextAttemptAt.map { .real($0) } ?? .null, code, status, reply, reason,
                            connection, .real(now), .integer(result.message))
        try event.execute(.integer(result.message), .integer(campaignID), .real(result.at), state, code, status, reply, reason, connection,
                          result.relay.map { .text($0) } ?? .null, result.replySeconds.map { .real($0) } ?? .null)
        if suppressDeadAddresses, result.state == .failed, let reason = result.reason.flatMap(FailureReason.init(rawValue:)),
           FailureReason.isDeadAddress(reason, enhancedStatus: result.enhancedStatus) {
            try db.execute(sql: """
                INSERT INTO suppressions (address, reason, source, campaign_id, created_at)
                SELECT c.address, ?, 'smtp', ?, ? FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE m.id = ?
                ON CONFLICT(address) DO NOTHING
                """, arguments: ["refused at SMTP time: \(reason.rawValue) (\(result.reply.prefix(200)))", campaignID, result.at, result.message])
        }
    }

    /// Puts messages in the given states back in the queue (`retry`); they keep their
    /// Message-ID and return path. Returns how many.
    public func requeue(campaignID: Int64, states: Set<MessageState>, now: Double) throws -> Int {
        let allowed = states.filter { MessageState.queued.sources.contains($0) }
        guard !allowed.isEmpty else { return 0 }
        return try write { db in
            let list = allowed.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            try db.execute(sql: """
                INSERT INTO events (message_id, campaign_id, at, state, reason)
                SELECT id, campaign_id, ?, 'queued', 'retry requested (was ' || state || ')' FROM messages WHERE campaign_id = ? AND state IN (\(list))
                """, arguments: [now, campaignID])
            try db.execute(sql: "UPDATE messages SET state = 'queued', next_attempt_at = NULL, updated_at = ? WHERE campaign_id = ? AND state IN (\(list))",
                           arguments: [now, campaignID])
            return db.changesCount
        }
    }

    /// When messages went out (accepted, or possibly: unknown) through `profile` since
    /// `since`, across all its campaigns; optionally only to one recipient domain.
    public func sendTimes(profile: String, domain: String? = nil, since: Double) throws -> [Double] {
        try read { db in
            if let domain {
                return try Double.fetchAll(db, sql: """
                    SELECT e.at FROM events e JOIN campaigns c ON c.id = e.campaign_id JOIN messages m ON m.id = e.message_id
                    WHERE c.profile = ? AND e.state IN ('accepted', 'unknown') AND e.at > ? AND m.recipient LIKE ?
                    ORDER BY e.at
                    """, arguments: [profile, since, "%@" + domain])
            }
            return try Double.fetchAll(db, sql: """
                SELECT e.at FROM events e JOIN campaigns c ON c.id = e.campaign_id
                WHERE c.profile = ? AND e.state IN ('accepted', 'unknown') AND e.at > ? ORDER BY e.at
                """, arguments: [profile, since])
        }
    }

    /// When messages went out through relay `relay` of `profile` since `since`, across all its campaigns.
    public func sendTimes(profile: String, relay: String, since: Double) throws -> [Double] {
        try read { db in
            try Double.fetchAll(db, sql: """
                SELECT e.at FROM events e JOIN campaigns c ON c.id = e.campaign_id
                WHERE c.profile = ? AND e.relay = ? AND e.state IN ('accepted', 'unknown') AND e.at > ? ORDER BY e.at
                """, arguments: [profile, relay, since])
        }
    }

    /// When the next deferred message falls due, if any.
    public func nextDeferral(campaignID: Int64) throws -> Double? {
        try read { db in
            try Double.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM messages WHERE campaign_id = ? AND state = 'deferred'", arguments: [campaignID])
        }
    }
}
