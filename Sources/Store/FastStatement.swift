import GRDB
import GRDBSQLite

/// A prepared statement bound and stepped through SQLite's C API, for the few
/// statements that run once per imported row: GRDB's argument arrays box every value,
/// which costs more than SQLite's own work there.
struct FastStatement {
    private let statement: Statement
    private let database: Database

    /// `cached`: reuse GRDB's prepared statement across transactions (the ledger's batches).
    init(_ db: Database, cached: Bool = false, sql: String) throws {
        statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        database = db
    }

    enum Value {
        case text(String)
        /// Text the caller keeps in memory until `run` returns (bound without a copy).
        case bytes(UnsafeBufferPointer<UInt8>)
        case integer(Int64)
        case real(Double)
        case null
    }

    /// Binds `values` to ?1, ?2, … and runs the statement to its end.
    func execute(_ values: Value...) throws {
        // (A cached statement may come back from GRDB not yet reset.)
        sqlite3_reset(statement.sqliteStatement)
        for (offset, value) in values.enumerated() {
            try bind(Int32(offset + 1), value)
        }
        try run()
    }

    /// Binds one value (the hot path binds one at a time: a variadic call allocates an array).
    func bind(_ index: Int32, _ value: Value) throws {
        let handle = statement.sqliteStatement
        let code: Int32
        switch value {
        case .text(let text):
            code = text.utf8.withContiguousStorageIfAvailable { bytes in
                sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                  Int32(bytes.count), FastStatement.transient)
            } ?? text.withCString { sqlite3_bind_text(handle, index, $0, -1, FastStatement.transient) }
        case .bytes(let bytes):
            // (A null pointer would bind NULL: empty text is bound as a copy of "".)
            code = bytes.count == 0
                ? sqlite3_bind_text(handle, index, "", 0, FastStatement.transient)
                : sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                    Int32(bytes.count), FastStatement.static)
        case .integer(let number):
            code = sqlite3_bind_int64(handle, index, number)
        case .real(let number):
            code = sqlite3_bind_double(handle, index, number)
        case .null:
            code = sqlite3_bind_null(handle, index)
        }
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Runs the statement with what is bound, to its end, and readies it for the next binds.
    func run() throws {
        let handle = statement.sqliteStatement
        let code = sqlite3_step(handle)
        let failure = code == SQLITE_DONE || code == SQLITE_ROW ? nil : error(code)
        sqlite3_reset(handle)
        // Nothing bound without a copy may outlive the call.
        sqlite3_clear_bindings(handle)
        if let failure { throw failure }
    }

    /// Rows the last statement on this connection changed, and the rowid it last inserted
    /// (SQLite's own counters: GRDB's properties check the calling queue first).
    var changes: Int32 { sqlite3_changes(database.sqliteConnection) }
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(database.sqliteConnection) }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(database.sqliteConnection)),
                      sql: statement.sql)
    }

    /// SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// SQLite reads the bytes where they are, until the statement is reset.
    private static let `static` = unsafeBitCast(0, to: sqlite3_destructor_type.self)

}
