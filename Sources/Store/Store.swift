import Foundation
import GRDB

/// The campaign database: one SQLite file in WAL mode, written by one writer at a
/// time, read concurrently (a report or a dashboard never blocks a sending campaign).
public final class Store: Sendable {
    let pool: DatabasePool
    /// The file, as given.
    public let path: String
    /// This database's random identity: signed tokens are bound to it (empty for databases
    /// that sent mail before identities existed).
    public let identity: String

    /// Opens (creating if needed) and migrates the database at `path`. A write waits up to
    /// `busyTimeout` seconds for another process's write to end.
    public init(path: String, busyTimeout: Double = 10) throws(StoreError) {
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: Self.configuration(readOnly: false, busyTimeout: busyTimeout))
            try Schema.migrator.migrate(pool)
            identity = try Self.identity(pool)
        } catch {
            throw StoreError(error, path: path)
        }
    }

    /// Opens an existing database for reading only (`report`, `campaigns`, `lists`): a
    /// missing file is an error, never a new database, and a read-only file is enough.
    /// A database an older version wrote is migrated first, when it can be written.
    public init(readingExisting path: String) throws(StoreError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(kind: .invalidRequest, "\(path): no such database; give --db PATH (or BROADSIDE_DB), or create one with: broadside import FILE.csv --list NAME")
        }
        // SQLite reads a WAL database through its -shm file, which it must create if absent.
        // In a folder this user cannot write, the file is opened as immutable: nothing this
        // user runs can change it meanwhile.
        let folder = (path as NSString).deletingLastPathComponent
        var readPath = path
        // (Only with no WAL beside it: immutable reads would not see what a WAL holds.)
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        if access(folder.isEmpty ? "." : folder, W_OK) != 0, !FileManager.default.fileExists(atPath: path + "-shm"), walBytes == 0,
           let encoded = URL(fileURLWithPath: path).standardizedFileURL.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) {
            readPath = "file:\(encoded)?immutable=1"
        }
        do {
            var reader = try DatabasePool(path: readPath, configuration: Self.configuration(readOnly: true))
            if try !reader.read({ try Schema.migrator.hasCompletedMigrations($0) }) {
                try reader.close()
                try Schema.migrator.migrate(try DatabasePool(path: path, configuration: Self.configuration(readOnly: false)))
                reader = try DatabasePool(path: readPath, configuration: Self.configuration(readOnly: true))
            }
            pool = reader
            identity = try Self.identity(pool)
        } catch {
            throw StoreError(error, path: path)
        }
    }

    private static func identity(_ pool: DatabasePool) throws -> String {
        try pool.read { try String.fetchOne($0, sql: "SELECT id FROM database_identity") } ?? ""
    }

    private static func configuration(readOnly: Bool, busyTimeout: Double = 10) -> Configuration {
        var configuration = Configuration()
        // SQLite's own wait retries up to 100 ms apart, which can miss every moment an import
        // leaves between its transactions: a millisecond apart, it gets in at the next one.
        let tries = Int(busyTimeout * 1000)
        configuration.busyMode = .callback { tried in
            guard tried < tries else { return false }
            usleep(1000)
            return true
        }
        configuration.readonly = readOnly
        configuration.prepareDatabase { db in
            guard !readOnly else { return }
            // WAL with synchronous=NORMAL is durable across a process crash; only a
            // power loss may lose the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        return configuration
    }

    /// Runs `work` in one write transaction; nothing of it is kept if it throws.
    /// SQLite errors become `StoreError`s; the caller's own errors pass through.
    func write<T>(_ work: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(work)
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }

    /// The writer for a bulk insert (an import), which runs its own short transactions
    /// (see `importContacts`). Foreign keys go unchecked: its references are right by
    /// construction (it links rows it has just inserted), and the checks were a sixth of
    /// its work. It stays in WAL mode: with a rollback journal (pages written once instead
    /// of twice) a send, an unsubscribe or `suppress add` of another process could not get
    /// the database between the import's transactions, nor open it in WAL mode at all.
    func bulkWrite<T>(_ work: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
                return try work(db)
            }
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }

    func read<T>(_ work: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(work)
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }
}

/// A database problem, with what to do about it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Another process holds the write lock.
        case locked
        /// The file cannot be opened or is not a Broadside database.
        case unavailable
        /// Something the caller asked for does not exist or conflicts (a list, a campaign).
        case invalidRequest
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    init(_ error: any Error, path: String) {
        if let error = error as? StoreError {
            self = error
        } else if let error = error as? DatabaseError, error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            self.init(kind: .locked, "\(path): the database is locked by another process; wait for it to finish or stop it")
        } else if let error = error as? DatabaseError {
            self.init(kind: .unavailable, "\(path): \(error.message ?? "SQLite error \(error.resultCode.rawValue)")")
        } else {
            self.init(kind: .unavailable, "\(path): \(error)")
        }
    }

    public var description: String { message }
}
