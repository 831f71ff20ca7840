import Foundation
import GRDB

/// A contact as the import hands it to the store: only what is stored, made by the
/// import's reading thread, so that the writing thread (the slower stage) has nothing
/// to do but write, nor many objects to free.
public struct ContactRow: Sendable {
    public var address: String          // normalised
    /// The SMTP and display forms as stored: nil where a form equals the one before it (most rows).
    let storedSMTPAddress: String?
    let storedDisplayAddress: String?
    public var needsSMTPUTF8: Bool
    /// The merge fields as stored (JSON, in the file's column order).
    public var fieldsJSON: String
    public var line: Int

    /// `columns` and `values`: the file's columns and this row's values, in the same order.
    public init(address: String, displayAddress: String, smtpAddress: String, needsSMTPUTF8: Bool, columns: [String],
                values: [String], line: Int) {
        self.init(address: address, displayAddress: displayAddress, smtpAddress: smtpAddress, needsSMTPUTF8: needsSMTPUTF8,
                  fields: FieldsJSON.ObjectWriter(keys: columns), values: values, line: line)
    }

    /// `fields`: the writer of the file's columns, made once for the whole import.
    public init(address: String, displayAddress: String, smtpAddress: String, needsSMTPUTF8: Bool, fields: FieldsJSON.ObjectWriter,
                values: [String], line: Int) {
        self.address = address
        storedSMTPAddress = smtpAddress == address ? nil : smtpAddress
        storedDisplayAddress = displayAddress == smtpAddress ? nil : displayAddress
        self.needsSMTPUTF8 = needsSMTPUTF8
        fieldsJSON = fields.encode(values)
        self.line = line
    }

    /// The merge fields by column.
    public var fields: [String: String] { FieldsJSON.decode(fieldsJSON) ?? [:] }
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
    /// Grows with every import: a campaign checked against one version is created only from it.
    public var version: Int64
}

/// Adds rows to a list inside the import's transaction.
public final class ListImport {
    let db: Database
    let listID: Int64
    let importID: Int64
    let now: Double
    let columns: [String]
    private let find: Statement
    private let insertContact: FastStatement
    private let updateContact: Statement
    private let insertMember: FastStatement
    private let touchMember: Statement
    private let updateMember: Statement

    /// Hashes of forgotten addresses that were suppressed: one imported again is suppressed again.
    private let forgotten: Set<String>
    private let suppressAgain: Statement

    init(db: Database, listID: Int64, importID: Int64, columns: [String], now: Double) throws {
        self.db = db
        forgotten = try Store.forgottenHashes(db)
        suppressAgain = try db.makeStatement(sql: """
            INSERT INTO suppressions (address, reason, source, created_at) VALUES (?, 'asked to be forgotten while suppressed', 'forget', ?)
            ON CONFLICT(address) DO NOTHING
            """)
        self.listID = listID
        self.importID = importID
        self.columns = columns
        self.now = now
        find = try db.makeStatement(sql: """
            SELECT c.id, m.fields, m.import_id AS member_import
            FROM contacts c LEFT JOIN list_members m ON m.contact_id = c.id AND m.list_id = ?
            WHERE c.address = ?
            """)
        insertContact = try FastStatement(db, sql: """
            INSERT INTO contacts (address, smtp_address, display_address, needs_smtputf8, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(address) DO NOTHING
            """)
        updateContact = try db.makeStatement(sql: """
            UPDATE contacts SET smtp_address = ?, display_address = ?, needs_smtputf8 = ?, updated_at = ? WHERE id = ?
            """)
        insertMember = try FastStatement(db, sql: """
            INSERT INTO list_members (list_id, contact_id, line, import_id, added_at, fields) VALUES (?, ?, ?, ?, ?, ?)
            """)
        touchMember = try db.makeStatement(sql: "UPDATE list_members SET import_id = ?, line = ? WHERE list_id = ? AND contact_id = ?")
        updateMember = try db.makeStatement(sql: "UPDATE list_members SET import_id = ?, line = ?, fields = ? WHERE list_id = ? AND contact_id = ?")
    }

    /// Rows written in one transaction: short enough that other writers (a send, an
    /// unsubscribe) wait a fraction of a second, long enough that commits cost little.
    static let rowsPerTransaction = 20_000
    private var rowsInTransaction = 0
    /// Members this import added: counted here, so that publishing need not count a
    /// million rows again.
    private(set) var members = 0

    /// Adds or merges one row. Its fields belong to this list's membership: another
    /// list holding the same address keeps its own.
    public func add(_ row: ContactRow) throws -> ContactChange {
        rowsInTransaction += 1
        if rowsInTransaction >= Self.rowsPerTransaction {
            try db.commit()
            try db.beginTransaction(.immediate)
            rowsInTransaction = 0
        }
        // A new address is the common case: insert first, look up only when it is known.
        try insertContact.execute(.text(row.address), row.storedSMTPAddress.map(FastStatement.Value.text) ?? .null,
                                  row.storedDisplayAddress.map(FastStatement.Value.text) ?? .null,
                                  .integer(row.needsSMTPUTF8 ? 1 : 0), .real(now), .real(now))
        if insertContact.changes == 1 {
            // (Read before any other insert: SQLite's last rowid is the connection's, not the statement's.)
            let contactID = insertContact.lastInsertedRowID
            if !forgotten.isEmpty, forgotten.contains(Store.forgottenHash(row.address)) {
                try suppressAgain.execute(arguments: [row.address, now])
            }
            members += 1
            try insertMember.execute(.integer(listID), .integer(contactID), .integer(Int64(row.line)), .integer(importID),
                                     .real(now), .text(row.fieldsJSON))
            return .imported
        }
        guard let existing = try Row.fetchOne(find, arguments: [listID, row.address]) else {
            throw StoreError(kind: .unavailable, "contact \(row.address) vanished during the import")
        }
        let contactID: Int64 = existing["id"]
        let memberImport: Int64? = existing["member_import"]
        if memberImport == importID {
            return .duplicate     // repeated within this file: the first row wins
        }
        guard memberImport != nil else {
            members += 1
            try insertMember.execute(.integer(listID), .integer(contactID), .integer(Int64(row.line)), .integer(importID), .real(now),
                                     .text(row.fieldsJSON))
            return .imported
        }
        let stored = FieldsJSON.decode(existing["fields"]) ?? [:]
        let merged = stored.merging(row.fields) { _, new in new }
        guard merged != stored else {
            try touchMember.execute(arguments: [importID, row.line, listID, contactID])
            return .duplicate
        }
        try updateMember.execute(arguments: [importID, row.line, FieldsJSON.encode(merged, order: columns), listID, contactID])
        try updateContact.execute(arguments: [row.storedSMTPAddress, row.storedDisplayAddress, row.needsSMTPUTF8, now, contactID])
        return .updated
    }

    /// How many of the rows this import kept are on the suppression list: one query at the end, not one a row.
    /// (From the suppression list, which is short, to the members: never a scan of the list.)
    func suppressedCount() throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT count(*) FROM suppressions s CROSS JOIN contacts c ON c.address = s.address
              CROSS JOIN list_members m ON m.list_id = ? AND m.contact_id = c.id
            WHERE m.import_id = ?
            """, arguments: [listID, importID]) ?? 0
    }
}

/// What an import into a list did, as the store counts it.
public struct ListImportResult<T> {
    public var value: T
    /// Rows of this import whose address is suppressed (imported, never sent to).
    public var suppressed: Int
    /// Members new to the list.
    public var imported: Int
    /// Members already in the list whose fields changed.
    public var updated: Int
    /// Members already in the list, unchanged.
    public var unchanged: Int
    /// Members that left the list because the file did not hold them (a sync).
    public var removed = 0
}

extension Store {
    /// Imports into list `name` (created if new). The rows are written in short
    /// transactions to a staging list of their own, so that a long import never holds the
    /// database from a send or an unsubscribe for long, and published in one short
    /// transaction at the end: a new list is renamed into place, an existing one merged.
    /// After a crash at any moment the list is either as before or fully imported (a
    /// staging list left by a dead process is removed by the next import).
    /// With `sync`, members the file does not hold leave the list (suppressions stay).
    public func importContacts<T>(
        list name: String, columns: [String], emailColumn: String, now: Double, sync: Bool = false,
        _ body: (ListImport) throws -> T
    ) throws -> ListImportResult<T> {
        try bulkWrite { db in
            // Room for the B-tree pages a large import touches, so that fewer spill mid-transaction.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            try Self.removeAbandonedStagingLists(db)
            let columnsJSON = String(decoding: try JSONEncoder().encode(columns), as: UTF8.self)
            var stagingID: Int64 = 0
            try db.inTransaction(.immediate) {
                try db.execute(sql: """
                    INSERT INTO lists (name, columns, email_column, last_import_id, created_at, updated_at, staging_for, staging_pid)
                    VALUES (?, ?, ?, 1, ?, ?, ?, ?)
                    """, arguments: ["\u{1}importing \(name) \(UUID().uuidString)", columnsJSON, emailColumn, now, now, name, Int64(getpid())])
                stagingID = db.lastInsertedRowID
                return .commit
            }
            let list = try ListImport(db: db, listID: stagingID, importID: 1, columns: columns, now: now)
            let value: T, suppressed: Int
            do {
                try db.beginTransaction(.immediate)
                value = try body(list)
                suppressed = try list.suppressedCount()
                try db.commit()
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                try? db.inTransaction(.immediate) {
                    try Self.removeList(id: stagingID, db)
                    return .commit
                }
                throw error
            }
            var counts = (imported: 0, updated: 0, unchanged: 0, removed: 0)
            try db.inTransaction(.immediate) {
                counts = try Self.publish(staging: stagingID, members: list.members, as: name, columns: columns, emailColumn: emailColumn, now: now,
                                          sync: sync, db)
                return .commit
            }
            return ListImportResult(value: value, suppressed: suppressed, imported: counts.imported, updated: counts.updated, unchanged: counts.unchanged,
                                    removed: counts.removed)
        }
    }

    /// Makes a complete staging list the list `name`: renamed into place when there is no
    /// such list yet; merged into it otherwise (a member's fields merged with the file's,
    /// the file's values winning).
    private static func publish(staging: Int64, members staged: Int, as name: String, columns: [String], emailColumn: String, now: Double,
                                sync: Bool, _ db: Database) throws -> (imported: Int, updated: Int, unchanged: Int, removed: Int) {
        guard let target = try Row.fetchOne(db, sql: "SELECT id, columns, last_import_id FROM lists WHERE name = ? AND staging_for IS NULL",
                                            arguments: [name]) else {
            try db.execute(sql: "UPDATE lists SET name = ?, staging_for = NULL, staging_pid = NULL WHERE id = ?", arguments: [name, staging])
            return (staged, 0, 0, 0)
        }
        let targetID: Int64 = target["id"]
        let importID: Int64 = target["last_import_id"] + 1
        let arguments: StatementArguments = [staging, targetID]
        let imported = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM list_members s WHERE s.list_id = ?
              AND NOT EXISTS (SELECT 1 FROM list_members t WHERE t.list_id = ? AND t.contact_id = s.contact_id)
            """, arguments: arguments) ?? 0
        let updated = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM list_members s JOIN list_members t ON t.list_id = ? AND t.contact_id = s.contact_id
            WHERE s.list_id = ? AND json_patch(t.fields, s.fields) != json(t.fields)
            """, arguments: [targetID, staging]) ?? 0
        try db.execute(sql: """
            UPDATE list_members AS t SET fields = json_patch(t.fields, s.fields), line = s.line, import_id = ?
            FROM (SELECT contact_id, fields, line FROM list_members WHERE list_id = ?) AS s
            WHERE t.list_id = ? AND t.contact_id = s.contact_id
            """, arguments: [importID, staging, targetID])
        try db.execute(sql: """
            INSERT INTO list_members (list_id, contact_id, line, import_id, added_at, fields)
            SELECT ?, s.contact_id, s.line, ?, s.added_at, s.fields FROM list_members s WHERE s.list_id = ?
              AND NOT EXISTS (SELECT 1 FROM list_members t WHERE t.list_id = ? AND t.contact_id = s.contact_id)
            """, arguments: [targetID, importID, staging, targetID])
        var removed = 0
        if sync {
            try db.execute(sql: """
                DELETE FROM list_members WHERE list_id = ?
                  AND NOT EXISTS (SELECT 1 FROM list_members s WHERE s.list_id = ? AND s.contact_id = list_members.contact_id)
                """, arguments: [targetID, staging])
            removed = db.changesCount
        }
        try removeList(id: staging, db)
        // A list's columns are the union of every file imported into it, in first-seen order.
        var known = (try? JSONDecoder().decode([String].self, from: Data((target["columns"] as String).utf8))) ?? []
        var seen = Set(known)
        for column in columns where seen.insert(column).inserted { known.append(column) }
        try db.execute(sql: "UPDATE lists SET columns = ?, email_column = ?, last_import_id = ?, updated_at = ? WHERE id = ?",
                       arguments: [String(decoding: try JSONEncoder().encode(known), as: UTF8.self), emailColumn, importID, now, targetID])
        return (imported, updated, staged - imported - updated, removed)
    }

    private static func removeList(id: Int64, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM list_members WHERE list_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM lists WHERE id = ?", arguments: [id])
    }

    /// Staging lists whose importing process is gone (killed mid-import).
    private static func removeAbandonedStagingLists(_ db: Database) throws {
        let abandoned = try Row.fetchAll(db, sql: "SELECT id, staging_pid FROM lists WHERE staging_for IS NOT NULL").filter { row in
            let pid = Int32(truncatingIfNeeded: (row["staging_pid"] as Int64?) ?? 0)
            return pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)
        }
        guard !abandoned.isEmpty else { return }
        try db.inTransaction(.immediate) {
            for row in abandoned { try removeList(id: row["id"], db) }
            return .commit
        }
    }

    /// The lists with their sizes.
    public func lists() throws -> [ListSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT l.name, l.columns, l.last_import_id,
                       (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS members,
                       (SELECT count(*) FROM list_members m JOIN contacts c ON c.id = m.contact_id
                          JOIN suppressions s ON s.address = c.address WHERE m.list_id = l.id) AS suppressed
                FROM lists l WHERE l.staging_for IS NULL ORDER BY l.name
                """).map { row in
                ListSummary(name: row["name"], members: row["members"], suppressed: row["suppressed"],
                            columns: (try? JSONDecoder().decode([String].self, from: Data((row["columns"] as String).utf8))) ?? [],
                            version: row["last_import_id"])
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
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT m.line, coalesce(c.smtp_address, c.address) AS smtp_address,
                       coalesce(c.display_address, c.smtp_address, c.address) AS display_address, m.fields
                FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id
                WHERE l.name = ? ORDER BY m.line, c.id LIMIT ?
                """, arguments: [list, limit ?? -1])
            while let row = try cursor.next() {
                let fields = FieldsJSON.decode(row["fields"]) ?? [:]
                try body(ListMember(line: row["line"] ?? 0, smtpAddress: row["smtp_address"], displayAddress: row["display_address"], fields: fields))
            }
        }
    }
}

extension Store {
    /// Takes `addresses` (normalised) out of list `name`; returns how many were members.
    /// Campaigns already created keep their recipients (frozen); suppressions are untouched.
    public func removeMembers(_ addresses: [String], from name: String) throws -> Int {
        try write { db in
            guard let listID = try Int64.fetchOne(db, sql: "SELECT id FROM lists WHERE name = ? AND staging_for IS NULL", arguments: [name]) else {
                throw StoreError(kind: .invalidRequest, "there is no list '\(name)'; 'broadside lists' shows them")
            }
            let remove = try db.makeStatement(sql: """
                DELETE FROM list_members WHERE list_id = ? AND contact_id = (SELECT id FROM contacts WHERE address = ?)
                """)
            var removed = 0
            for address in addresses {
                try remove.execute(arguments: [listID, address])
                removed += db.changesCount
            }
            if removed > 0 {
                try db.execute(sql: "UPDATE lists SET last_import_id = last_import_id + 1, updated_at = strftime('%s','now') WHERE id = ?", arguments: [listID])
            }
            return removed
        }
    }

    /// Deletes list `name` and its memberships; refused while a campaign was made from it.
    /// Suppressions are untouched. Returns how many members it had.
    public func deleteList(_ name: String) throws -> Int {
        try write { db in
            guard let listID = try Int64.fetchOne(db, sql: "SELECT id FROM lists WHERE name = ? AND staging_for IS NULL", arguments: [name]) else {
                throw StoreError(kind: .invalidRequest, "there is no list '\(name)'; 'broadside lists' shows them")
            }
            let campaigns = try String.fetchAll(db, sql: "SELECT name FROM campaigns WHERE list_id = ? ORDER BY name", arguments: [listID])
            guard campaigns.isEmpty else {
                throw StoreError(kind: .invalidRequest, "list '\(name)' was used by campaign\(campaigns.count == 1 ? "" : "s") \(campaigns.map { "'\($0)'" }.joined(separator: ", ")); delete \(campaigns.count == 1 ? "it" : "them") first (broadside campaigns delete NAME)")
            }
            let members = try Int.fetchOne(db, sql: "SELECT count(*) FROM list_members WHERE list_id = ?", arguments: [listID]) ?? 0
            try db.execute(sql: "DELETE FROM list_members WHERE list_id = ?", arguments: [listID])
            try db.execute(sql: "DELETE FROM lists WHERE id = ?", arguments: [listID])
            return members
        }
    }
}
