import GRDB
import GRDBSQLite

/// A campaign's figures from one pass over its messages, summed in memory: per recipient
/// domain, the span, the attempts and the retries, when messages were accepted, and (for a
/// campaign with opens or clicks) who opened and clicked by domain. SQLite's `GROUP BY`
/// sorted every row for each of these: on a million messages the domains took two thirds
/// of a report's time, the two timelines another third, and the engagement by domain (a
/// join, then a sort) a third of the rest.
struct MessageTally {
    var domains: [String: DomainFigures] = [:]
    var first: Double?
    var last: Double?
    var attempts = 0
    /// Messages with 0, 1, 2, 3 or more attempts.
    var histogram = [0, 0, 0, 0]
    /// Messages accepted (and those later bounced or complained of) by the minute of their
    /// last attempt, as `CAST(last_attempt_at / 60 AS INTEGER) * 60`.
    var acceptedPerMinute: [Double: Int] = [:]
    /// The same by the second, while the campaign spans at most `secondsKept` of them: a
    /// timeline of bins shorter than a minute is drawn from these.
    var acceptedPerSecond: [Int64: Int]? = [:]
    static let secondsKept = 7200
    /// Recipients a person opened for (or clicked) and who clicked, by domain; only domains
    /// with a recipient who did anything (a machine's request included).
    var engagedByDomain: [String: (opened: Int, clicked: Int)] = [:]

    init(_ db: Database, campaignID: Int64) throws {
        // The engagement tallies are joined only where there are any (one lookup a message).
        let engaged = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM engagement WHERE campaign_id = ?)", arguments: [campaignID]) ?? false
        let statement = try db.makeStatement(sql: engaged ? """
            SELECT m.recipient, m.state, m.first_attempt_at, m.last_attempt_at, m.attempts,
                   e.message_id IS NOT NULL, e.person_open OR e.person_click, e.person_click
            FROM messages m LEFT JOIN engagement e ON e.message_id = m.id WHERE m.campaign_id = ?
            """ : """
            SELECT recipient, state, first_attempt_at, last_attempt_at, attempts FROM messages WHERE campaign_id = ?
            """)
        let handle = statement.sqliteStatement
        sqlite3_bind_int64(handle, 1, campaignID)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                                    sql: statement.sql)
            }
            let domain = Self.domain(of: Self.text(handle, column: 0))
            let state = TalliedState(Self.text(handle, column: 1))
            domains[domain, default: DomainFigures(domain: domain, messages: 0, accepted: 0, deferred: 0, failed: 0, bounced: 0)].count(state)
            if sqlite3_column_type(handle, 2) != SQLITE_NULL {
                let value = sqlite3_column_double(handle, 2)
                first = min(first ?? value, value)
            }
            if sqlite3_column_type(handle, 3) != SQLITE_NULL {
                let value = sqlite3_column_double(handle, 3)
                last = max(last ?? value, value)
                if state.wasAccepted { countAccepted(at: value) }
            }
            let tries = Int(sqlite3_column_int64(handle, 4))
            attempts += tries
            histogram[min(max(tries, 0), 3)] += 1
            if engaged, sqlite3_column_int64(handle, 5) != 0 {
                engagedByDomain[domain, default: (0, 0)].opened += Int(sqlite3_column_int64(handle, 6))
                engagedByDomain[domain, default: (0, 0)].clicked += Int(sqlite3_column_int64(handle, 7))
            }
        }
    }

    private mutating func countAccepted(at time: Double) {
        acceptedPerMinute[(time / 60).rounded(.towardZero) * 60, default: 0] += 1
        guard acceptedPerSecond != nil else { return }
        acceptedPerSecond![Int64(time.rounded(.towardZero)), default: 0] += 1
        if acceptedPerSecond!.count > Self.secondsKept { acceptedPerSecond = nil }
    }

    /// The domains, most messages first.
    var byMessages: [DomainFigures] {
        domains.values.sorted { ($0.messages, $1.domain) > ($1.messages, $0.domain) }
    }

    /// Accepted messages in bins of `seconds` (a divisor or a multiple of 60), in time order;
    /// nil where they cannot be drawn from what the pass kept.
    func accepted(inBinsOf seconds: Double) -> [(start: Double, count: Int)]? {
        let width = Int64(seconds)
        let counts: [Int64: Int]
        if width >= 60, width % 60 == 0 {
            counts = acceptedPerMinute.reduce(into: [:]) { bins, minute in bins[Int64(minute.key) / width * width, default: 0] += minute.value }
        } else if let acceptedPerSecond, width > 0, 60 % width == 0 {
            counts = acceptedPerSecond.reduce(into: [:]) { bins, second in bins[second.key / width * width, default: 0] += second.value }
        } else {
            return nil
        }
        return counts.sorted { $0.key < $1.key }.map { (Double($0.key), $0.value) }
    }

    /// A text column where SQLite holds it (until the next step), without a copy.
    private static func text(_ handle: OpaquePointer, column: Int32) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: sqlite3_column_text(handle, column), count: Int(sqlite3_column_bytes(handle, column)))
    }

    /// What follows the last "@", as SQLite's `substr(recipient, instr(recipient, '@') + 1)` gave for valid addresses.
    private static func domain(of recipient: UnsafeBufferPointer<UInt8>) -> String {
        guard let at = recipient.lastIndex(of: UInt8(ascii: "@")) else { return String(decoding: recipient, as: UTF8.self) }
        return String(decoding: UnsafeBufferPointer(rebasing: recipient[(at + 1)...]), as: UTF8.self)
    }
}

/// A message's state as the tally counts it, read from its bytes.
private enum TalliedState {
    case accepted, deferred, failed, bounced, complained, other

    private static let names: [(TalliedState, [UInt8])] = [
        (.accepted, Array("accepted".utf8)), (.deferred, Array("deferred".utf8)), (.failed, Array("failed".utf8)),
        (.bounced, Array("bounced".utf8)), (.complained, Array("complained".utf8)),
    ]

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self = Self.names.first { bytes.elementsEqual($0.1) }?.0 ?? .other
    }

    /// The server accepted it (a bounce or a complaint may have come later).
    var wasAccepted: Bool { self == .accepted || self == .bounced || self == .complained }
}

private extension DomainFigures {
    mutating func count(_ state: TalliedState) {
        messages += 1
        switch state {
        case .accepted: accepted += 1
        case .deferred: deferred += 1
        case .failed: failed += 1
        case .bounced, .complained: bounced += 1
        case .other: break
        }
    }
}
