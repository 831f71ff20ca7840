import GRDB
import GRDBSQLite

/// A campaign's figures per recipient domain, and over all of them the span, the
/// attempts and the retries, in one pass over its messages summed in memory. SQLite's
/// `GROUP BY domain` sorted every row to do the same: two thirds of a report's time
/// on a million messages.
struct DomainTally {
    var domains: [String: DomainFigures] = [:]
    var first: Double?
    var last: Double?
    var attempts = 0
    /// Messages with 0, 1, 2, 3 or more attempts.
    var histogram = [0, 0, 0, 0]

    init(_ db: Database, campaignID: Int64) throws {
        let statement = try db.makeStatement(sql: """
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
            let domain = Self.domain(of: Self.bytes(handle, column: 0))
            var figures = domains[domain] ?? DomainFigures(domain: domain, messages: 0, accepted: 0, deferred: 0, failed: 0, bounced: 0)
            figures.messages += 1
            switch Self.bytes(handle, column: 1) {
            case Self.accepted: figures.accepted += 1
            case Self.deferred: figures.deferred += 1
            case Self.failed: figures.failed += 1
            case Self.bounced, Self.complained: figures.bounced += 1
            default: break
            }
            domains[domain] = figures
            if sqlite3_column_type(handle, 2) != SQLITE_NULL {
                let value = sqlite3_column_double(handle, 2)
                first = min(first ?? value, value)
            }
            if sqlite3_column_type(handle, 3) != SQLITE_NULL {
                let value = sqlite3_column_double(handle, 3)
                last = max(last ?? value, value)
            }
            let tries = Int(sqlite3_column_int64(handle, 4))
            attempts += tries
            histogram[min(max(tries, 0), 3)] += 1
        }
    }

    /// The domains, most messages first.
    var byMessages: [DomainFigures] {
        domains.values.sorted { ($0.messages, $1.domain) > ($1.messages, $0.domain) }
    }

    private static let accepted = Array("accepted".utf8), deferred = Array("deferred".utf8), failed = Array("failed".utf8)
    private static let bounced = Array("bounced".utf8), complained = Array("complained".utf8)

    private static func bytes(_ handle: OpaquePointer, column: Int32) -> [UInt8] {
        guard let text = sqlite3_column_text(handle, column) else { return [] }
        return Array(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
    }

    /// What follows the last "@", as SQLite's `substr(recipient, instr(recipient, '@') + 1)` gave for valid addresses.
    private static func domain(of recipient: [UInt8]) -> String {
        guard let at = recipient.lastIndex(of: UInt8(ascii: "@")) else { return String(decoding: recipient, as: UTF8.self) }
        return String(decoding: recipient[(at + 1)...], as: UTF8.self)
    }
}
