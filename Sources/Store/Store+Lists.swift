import Foundation
import GRDB

/// A contact as the import hands it to the store.
public struct ContactRow: Sendable {
    public var address: String          // normalised
    public var displayAddress: String
    public var smtpAddress: String
    public var needsSMTPUTF8: Bool
    public var fields: [String: String]
    public var line: Int

    public init(address: String, displayAddress: String, smtpAddress: String, needsSMTPUTF8: Bool, fields: [String: String], line: Int) {
        self.address = address
        self.displayAddress = displayAddress
        self.smtpAddress = smtpAddress
        self.needsSMTPUTF8 = needsSMTPUTF8
        self.fields = fields
        self.line = line
    }
}

/// What adding one row did to the list.
public enum ContactChange: Sendable, Equatable {
    /// New to the list.
    case imported
    /// Already in the list; its fields changed.
    case updated
    /// Already in the list unchanged, or repeated within the same file.
    case duplicate
}

/// A summary of one list, for `broadside lists`.
public struct ListSummary: Sendable, Codable, Equatable {
    public var name: String
    public var members: Int
    public var suppressed: Int
    public var columns: [String]
}

/// Adds rows to a list inside the import's transaction.
public final class ListImport {
    let db: Database
    let listID: Int64
    let importID: Int64
    let now: Double
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
    private let decoder = JSONDecoder()

    init(db: Database, listID: Int64, importID: Int64, now: Double) {
        self.db = db
        self.listID = listID
        self.importID = importID
        self.now = now
    }

    /// Adds or merges one row; also says whether the address is suppressed.
    public func add(_ row: ContactRow) throws -> (change: ContactChange, suppressed: Bool) {
        let existing = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT c.id, c.fields, m.import_id AS member_import
            FROM contacts c LEFT JOIN list_members m ON m.contact_id = c.id AND m.list_id = ?
            WHERE c.address = ?
            """), arguments: [listID, row.address])
        let suppressed = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM suppressions WHERE address = ?)"),
                                           arguments: [row.address]) ?? false
        guard let existing else {
            try db.cachedStatement(sql: """
                INSERT INTO contacts (address, display_address, smtp_address, needs_smtputf8, fields, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [row.address, row.displayAddress, row.smtpAddress, row.needsSMTPUTF8, try encode(row.fields), now, now])
            try addMember(db.lastInsertedRowID, line: row.line)
            return (.imported, suppressed)
        }
        let contactID: Int64 = existing["id"]
        let memberImport: Int64? = existing["member_import"]
        if memberImport == importID {
            return (.duplicate, suppressed)     // repeated within this file: the first row wins
        }
        let stored = (try? decoder.decode([String: String].self, from: Data((existing["fields"] as String).utf8))) ?? [:]
        let merged = stored.merging(row.fields) { _, new in new }
        let changed = merged != stored
        if changed {
            try db.cachedStatement(sql: """
                UPDATE contacts SET fields = ?, display_address = ?, smtp_address = ?, needs_smtputf8 = ?, updated_at = ? WHERE id = ?
                """).execute(arguments: [try encode(merged), row.displayAddress, row.smtpAddress, row.needsSMTPUTF8, now, contactID])
        }
        if memberImport == nil {
            try addMember(contactID, line: row.line)
            return (.imported, suppressed)
        }
        try db.cachedStatement(sql: "UPDATE list_members SET import_id = ?, line = ? WHERE list_id = ? AND contact_id = ?")
            .execute(arguments: [importID, row.line, listID, contactID])
        return (changed ? .updated : .duplicate, suppressed)
    }

    private func addMember(_ contactID: Int64, line: Int) throws {
        try db.cachedStatement(sql: "INSERT INTO list_members (list_id, contact_id, line, import_id, added_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [listID, contactID, line, importID, now])
    }

    private func encode(_ fields: [String: String]) throws -> String {
        String(decoding: try encoder.encode(fields), as: UTF8.self)
    }
}

extension Store {
    /// Imports into list `name` (created if new) in one transaction: after a crash at
    /// any moment the list is either as before or fully imported.
    public func importContacts<T>(
        list name: String, columns: [String], emailColumn: String, now: Double,
        _ body: (ListImport) throws -> T
    ) throws -> T {
        try write { db in
            let columnsJSON = String(decoding: try JSONEncoder().encode(columns), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO lists (name, columns, email_column, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at
                """, arguments: [name, columnsJSON, emailColumn, now, now])
            guard let list = try Row.fetchOne(db, sql: "SELECT id, columns, last_import_id FROM lists WHERE name = ?", arguments: [name]) else {
                throw StoreError(kind: .unavailable, "list '\(name)' vanished during the import")
            }
            let listID: Int64 = list["id"]
            let importID: Int64 = list["last_import_id"] + 1
            // A list's columns are the union of every file imported into it, in first-seen order.
            var known = (try? JSONDecoder().decode([String].self, from: Data((list["columns"] as String).utf8))) ?? []
            for column in columns where !known.contains(column) { known.append(column) }
            try db.execute(sql: "UPDATE lists SET columns = ?, email_column = ?, last_import_id = ? WHERE id = ?",
                           arguments: [String(decoding: try JSONEncoder().encode(known), as: UTF8.self), emailColumn, importID, listID])
            return try body(ListImport(db: db, listID: listID, importID: importID, now: now))
        }
    }

    /// The lists with their sizes.
    public func lists() throws -> [ListSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT l.name, l.columns,
                       (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS members,
                       (SELECT count(*) FROM list_members m JOIN contacts c ON c.id = m.contact_id
                          JOIN suppressions s ON s.address = c.address WHERE m.list_id = l.id) AS suppressed
                FROM lists l ORDER BY l.name
                """).map { row in
                ListSummary(name: row["name"], members: row["members"], suppressed: row["suppressed"],
                            columns: (try? JSONDecoder().decode([String].self, from: Data((row["columns"] as String).utf8))) ?? [])
            }
        }
    }

    /// One list, or nil.
    public func list(named name: String) throws -> ListSummary? {
        try lists().first { $0.name == name }
    }
}

/// A list member as check and preview read it.
public struct ListMember: Sendable {
    /// The CSV line it last came from.
    public var line: Int
    public var smtpAddress: String
    public var displayAddress: String
    public var fields: [String: String]
}

extension Store {
    /// Calls `body` with each member of the list in file order, up to `limit`.
    public func forEachMember(of list: String, limit: Int? = nil, _ body: (ListMember) throws -> Void) throws {
        try read { db in
            let decoder = JSONDecoder()
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT m.line, c.smtp_address, c.display_address, c.fields
                FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id
                WHERE l.name = ? ORDER BY m.line, c.id LIMIT ?
                """, arguments: [list, limit ?? -1])
            while let row = try cursor.next() {
                let fields = (try? decoder.decode([String: String].self, from: Data((row["fields"] as String).utf8))) ?? [:]
                try body(ListMember(line: row["line"] ?? 0, smtpAddress: row["smtp_address"], displayAddress: row["display_address"], fields: fields))
            }
        }
    }
}
