import Foundation
import GRDB

/// A summary of one list, for `broadside lists`.
public struct ListSummary: Sendable, Codable, Equatable {
    public var name: String
    public var members: Int
    public var suppressed: Int
    public var columns: [String]
    /// Grows with every import: a campaign checked against one version is created only from it.
    public var version: Int64
}

/// Adds rows to a staging list (a new list of its own) inside the import's transactions.
public final class ListImport {
    let db: Database
    let listID: Int64
    let importID: Int64
    let now: Double
    /// Inserts of `rowsPerStatement` rows (and fewer, for a batch's last rows), made when first needed.
    private var insertContacts: [Int: FastStatement] = [:]
    private var insertMembers: [Int: FastStatement] = [:]
    private var findContacts: [Int: Statement] = [:]
    /// Copies committed pages into the database file beside this writer (nil: SQLite's own checkpoints do).
    private var checkpointer: WALCheckpointer?

    /// Hashes of forgotten addresses that were suppressed: one imported again is suppressed again.
    private let forgotten: Set<String>
    private let suppressAgain: Statement

    init(db: Database, listID: Int64, importID: Int64, now: Double, checkpointer: WALCheckpointer?) throws {
        self.db = db
        self.checkpointer = checkpointer
        forgotten = try Store.forgottenHashes(db)
        suppressAgain = try db.makeStatement(sql: """
            INSERT INTO suppressions (address, reason, source, created_at) VALUES (?, 'asked to be forgotten while suppressed', 'forget', ?)
            ON CONFLICT(address) DO NOTHING
            """)
        self.listID = listID
        self.importID = importID
        self.now = now
    }

    /// Rows written in one transaction: short enough that other writers (a send, an
    /// unsubscribe) wait a fraction of a second, long enough that commits cost little.
    static let rowsPerTransaction = 20_000
    static let pauseBetweenTransactions: UInt32 = 2000  // µs
    /// Rows one INSERT writes: SQLite's work per statement (cursors, a statement journal)
    /// is then shared by many rows.
    static let rowsPerStatement = 64
    private var rowsInTransaction = 0
    /// Members this import added: counted here, so that publishing need not count a
    /// million rows again.
    private(set) var members = 0

    /// Adds the batch's contacts to the list (each contact created if new); returns how
    /// many repeat an address already in the list (the first row of an address wins).
    /// The fields belong to this list's membership: another list holding the same
    /// address keeps its own.
    public func add(_ batch: ContactBatch) throws -> Int {
        var duplicates = 0
        try batch.text.withUnsafeBufferPointer { text in
            var start = 0
            while start < batch.contacts.count {
                let rows = batch.contacts[start..<min(start + Self.rowsPerStatement, batch.contacts.count)]
                start = rows.endIndex
                try commitAfter(rows.count)
                let members: [Member]
                if let newIDs = try insertNewContacts(rows, text) {
                    members = zip(newIDs, rows).map { Member(contactID: $0, row: $1) }
                    for contact in rows { try suppressAgainIfForgotten(batch.string(contact.address)) }
                } else {
                    members = try contactsLookedUp(rows, batch)
                }
                duplicates += try members.count - insertMembers(members, text)
            }
        }
        return duplicates
    }

    private struct Member {
        var contactID: Int64
        var row: ContactBatch.PackedContact
    }

    /// Inserts the rows' contacts with one statement; their ids when every one was new (the
    /// common case), nil when some address was known, or repeated among them.
    private func insertNewContacts(_ rows: ArraySlice<ContactBatch.PackedContact>, _ text: UnsafeBufferPointer<UInt8>) throws -> [Int64]? {
        // (Read once a transaction: between two, another process may have added contacts.)
        let largestBefore = try largestContactID ?? Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM contacts") ?? 0
        let insert = try statement(&insertContacts, rows.count, """
            INSERT INTO contacts (address, smtp_address, display_address, needs_smtputf8, created_at, updated_at) VALUES
            """, row: { "(?\(2 + 4 * $0), ?\(3 + 4 * $0), ?\(4 + 4 * $0), ?\(5 + 4 * $0), ?1, ?1)" }, then: " ON CONFLICT(address) DO NOTHING")
        try insert.bind(1, .real(now))
        for (offset, contact) in rows.enumerated() {
            let first = Int32(2 + 4 * offset)
            try insert.bind(first, Self.bytes(contact.address, text))
            try insert.bind(first + 1, contact.smtpAddress.map { Self.bytes($0, text) } ?? .null)
            try insert.bind(first + 2, contact.displayAddress.map { Self.bytes($0, text) } ?? .null)
            try insert.bind(first + 3, .integer(contact.needsSMTPUTF8 ? 1 : 0))
        }
        try insert.run()
        inserted = (Int(insert.changes), largestBefore)
        guard inserted.count > 0 else {
            largestContactID = largestBefore
            return nil
        }
        // SQLite gives each new row the rowid after the largest (contacts has no AUTOINCREMENT),
        // so the new rows have the next rowids in order. (Only were the largest possible rowid
        // taken would it pick others at random; then the last one is not where it would be.)
        let last = insert.lastInsertedRowID
        guard last == largestBefore + Int64(inserted.count) else {
            throw StoreError(kind: .unavailable, "new contacts did not get the rowids after the largest (\(largestBefore)); the import is stopped, nothing of it is kept")
        }
        largestContactID = last
        guard inserted.count == rows.count else { return nil }
        return Array(largestBefore + 1...last)
    }

    /// The largest contact id in this transaction, once read.
    private var largestContactID: Int64?
    /// What the last `insertNewContacts` inserted: how many rows, after which rowid.
    private var inserted: (count: Int, after: Int64) = (0, 0)

    /// The rows' contacts, looked up with one statement (after `insertNewContacts` returned
    /// nil): each row with its contact, in file order.
    private func contactsLookedUp(_ rows: ArraySlice<ContactBatch.PackedContact>, _ batch: ContactBatch) throws -> [Member] {
        let addresses = rows.map { batch.string($0.address) }
        let find: Statement
        if let cached = findContacts[rows.count] {
            find = cached
        } else {
            find = try db.makeStatement(sql: "SELECT address, id FROM contacts WHERE address IN (\(Array(repeating: "?", count: rows.count).joined(separator: ", ")))")
            findContacts[rows.count] = find
        }
        var ids: [String: Int64] = [:]
        for row in try Row.fetchAll(find, arguments: StatementArguments(addresses)) { ids[row[0]] = row[1] }
        return try zip(addresses, rows).map { address, contact in
            guard let contactID = ids[address] else { throw StoreError(kind: .unavailable, "contact \(address) vanished during the import") }
            // Created by the statement before: among the rowids it took.
            if contactID > inserted.after { try suppressAgainIfForgotten(address) }
            return Member(contactID: contactID, row: contact)
        }
    }

    /// Adds the members, in file order; returns how many were added: a contact already in
    /// the list (a repeated address) is left as its first row made it.
    private func insertMembers(_ members: [Member], _ text: UnsafeBufferPointer<UInt8>) throws -> Int {
        guard !members.isEmpty else { return 0 }
        let insert = try statement(&insertMembers, members.count, """
            INSERT INTO list_members (list_id, contact_id, line, import_id, added_at, fields) VALUES
            """, row: { "(?1, ?\(4 + 3 * $0), ?\(5 + 3 * $0), ?2, ?3, ?\(6 + 3 * $0))" }, then: " ON CONFLICT(list_id, contact_id) DO NOTHING")
        try insert.bind(1, .integer(listID))
        try insert.bind(2, .integer(importID))
        try insert.bind(3, .real(now))
        for (offset, member) in members.enumerated() {
            let first = Int32(4 + 3 * offset)
            try insert.bind(first, .integer(member.contactID))
            try insert.bind(first + 1, .integer(Int64(member.row.line)))
            try insert.bind(first + 2, Self.bytes(member.row.fields, text))
        }
        try insert.run()
        let added = Int(insert.changes)
        self.members += added
        return added
    }

    private static func bytes(_ range: Range<Int>, _ text: UnsafeBufferPointer<UInt8>) -> FastStatement.Value {
        .bytes(UnsafeBufferPointer(rebasing: text[range]))
    }

    /// The INSERT of `rows` rows: `start`, then `row(i)` for each row, comma-separated, then `end`.
    private func statement(_ cache: inout [Int: FastStatement], _ rows: Int, _ start: String, row: (Int) -> String,
                           then end: String) throws -> FastStatement {
        if let statement = cache[rows] { return statement }
        let statement = try FastStatement(db, sql: start + " " + (0..<rows).map(row).joined(separator: ", ") + end)
        cache[rows] = statement
        return statement
    }

    private func suppressAgainIfForgotten(_ address: @autoclosure () -> String) throws {
        guard !forgotten.isEmpty else { return }
        let address = address()
        if forgotten.contains(Store.forgottenHash(address)) { try suppressAgain.execute(arguments: [address, now]) }
    }

    /// Commits when the transaction has grown to `rowsPerTransaction` rows, before `rows` more.
    private func commitAfter(_ rows: Int) throws {
        rowsInTransaction += rows
        guard rowsInTransaction > Self.rowsPerTransaction else { return }
        try db.commit()
        if let checkpointer, !checkpointer.committed() {
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Store.autocheckpointPages)")
            self.checkpointer = nil
        }
        // A moment for a writer that waits (a send, an unsubscribe: they try every millisecond).
        usleep(Self.pauseBetweenTransactions)
        try db.beginTransaction(.immediate)
        largestContactID = nil
        rowsInTransaction = rows
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
            // The pages this import commits are copied into the file on another core.
            let checkpointer = try? WALCheckpointer(path: path)
            if let checkpointer {
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
                checkpointer.start()
            }
            defer {
                checkpointer?.stop()
                try? db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.autocheckpointPages)")
            }
            let list = try ListImport(db: db, listID: stagingID, importID: 1, now: now, checkpointer: checkpointer)
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

    /// SQLite's default: a checkpoint when a commit leaves the WAL longer than this.
    static let autocheckpointPages = 1000

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
        // (A member whose fields are the same text as the file's is unchanged: most of a re-import,
        // and cheaper to see than to merge.)
        let updated = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM list_members s JOIN list_members t ON t.list_id = ? AND t.contact_id = s.contact_id
            WHERE s.list_id = ? AND t.fields != s.fields AND json_patch(t.fields, s.fields) != json(t.fields)
            """, arguments: [targetID, staging]) ?? 0
        try db.execute(sql: """
            UPDATE list_members AS t
            SET fields = CASE WHEN t.fields = s.fields THEN t.fields ELSE json_patch(t.fields, s.fields) END, line = s.line, import_id = ?
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
