import Addresses
import CSV
import Engine
import Foundation
import Store

/// How to read a CSV into a list.
public struct ImportOptions: Sendable {
    public var listName: String
    /// The column holding addresses; found by name when nil.
    public var emailColumn: String?
    /// Sniffed among `,` `;` tab `|` when nil.
    public var delimiter: UInt8?
    /// Found from a byte-order mark, else UTF-8, when nil.
    public var encoding: String?
    /// Where rejected rows go (the original row, its line, the reason).
    public var rejectsPath: String?
    /// Members of the list the file does not hold leave it (`import --sync`).
    public var sync = false

    public init(listName: String, emailColumn: String? = nil, delimiter: UInt8? = nil, encoding: String? = nil, rejectsPath: String? = nil) {
        self.listName = listName
        self.emailColumn = emailColumn
        self.delimiter = delimiter
        self.encoding = encoding
        self.rejectsPath = rejectsPath
    }
}

/// What an import did. `rows` = imported + updated + duplicates + rejected.
public struct ImportSummary: Sendable, Codable, Equatable {
    public var list: String
    public var rows = 0
    public var imported = 0
    public var updated = 0
    /// Already in the list with the same fields (a re-import).
    public var unchanged = 0
    /// Rows repeating an address earlier in the same file (the first one wins).
    public var duplicates = 0
    /// Members that left the list because the file did not hold them (`--sync`).
    public var removed = 0
    public var rejected = 0
    /// Of the rows kept, how many addresses are on the suppression list (kept, never sent to).
    public var suppressed = 0
    /// The first rejected rows, for the terminal (all of them go to the rejects file).
    public var rejections: [Rejection] = []

    public init(list: String) {
        self.list = list
    }

    enum CodingKeys: String, CodingKey {
        case list, rows, imported, updated, unchanged, duplicates, rejected, suppressed, removed
    }
}

/// A row that was not imported, and why.
public struct Rejection: Sendable, Codable, Equatable {
    public var line: Int
    public var reason: String
}

/// Streams a CSV file into a list: one transaction, so that after a crash at any
/// moment the list is either as before or fully imported.
public enum ContactImport {
    /// Names an email column goes by, compared case-insensitively.
    static let emailColumnNames: Set<String> = [
        "email", "e-mail", "mail", "email address", "e-mail address", "emailaddress", "email_address", "e_mail",
        "e-mail 1 - value", "primary email", "email 1", "correo", "correo electrónico", "courriel", "e-mail-adresse",
        "邮箱", "电子邮件", "邮件地址", "电子邮箱", "邮箱地址", "电子邮件地址",
    ]

    public static func run(
        file path: String, options: ImportOptions, store: Store, now: Double,
        progress: ((Int) -> Void)? = nil
    ) throws -> ImportSummary {
        let rejects = try options.rejectsPath.map(RejectsFile.init(path:))
        var summary = ImportSummary(list: options.listName)
        let reader = RecipientTable(path: path, delimiter: options.delimiter, encoding: options.encoding)
        let header = try reader.header()
        let emailIndex = try emailColumnIndex(in: header.columns, named: options.emailColumn, file: path)

        // Reading and validating run on a thread of their own, ahead of the database
        // work on this one: two cores, two stages.
        let rows = ValidatedRows(table: reader, columns: header.columns, emailIndex: emailIndex)
        rows.start()
        defer { rows.cancel() }
        let result = try store.importContacts(list: options.listName, columns: header.columns, emailColumn: header.columns[emailIndex], now: now,
                                              sync: options.sync) { list in
            while let batch = rows.next() {
                for row in batch {
                    summary.rows += 1
                    if let progress, summary.rows % 10_000 == 0 { progress(summary.rows) }
                    switch row {
                    case .rejected(let record, let reason):
                        summary.rejected += 1
                        if summary.rejections.count < 100 { summary.rejections.append(Rejection(line: record.line, reason: reason)) }
                        try rejects?.write(record, reason: reason)
                    case .contact(let contact):
                        // What the row does to the list is counted when the import is published;
                        // here only a repeat within the file shows.
                        if try list.add(contact) == .duplicate { summary.duplicates += 1 }
                    }
                }
            }
            // A read error (an unterminated quote, a bad byte) ends the stream early: nothing is kept.
            if let error = rows.failure { throw error }
        }
        summary.suppressed = result.suppressed
        summary.imported = result.imported
        summary.updated = result.updated
        summary.unchanged = result.unchanged
        summary.removed = result.removed
        try rejects?.close()
        progress?(summary.rows)
        return summary
    }

    static func emailColumnIndex(in columns: [String], named name: String?, file: String) throws -> Int {
        if let name {
            guard let index = columns.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
                throw BroadsideError.input("\(file): there is no column '\(name)'; the columns are: \(columns.joined(separator: ", "))")
            }
            return index
        }
        guard let index = columns.firstIndex(where: { emailColumnNames.contains($0.lowercased()) }) else {
            throw BroadsideError.input("\(file): no column is named like an email address (email, e-mail, 邮箱, …); name it with --email-column (the columns are: \(columns.joined(separator: ", ")))")
        }
        return index
    }

    /// Checks one row; a contact to store, or why the row is rejected.
    static func validate(_ record: CSVRecord, columns: [String], emailIndex: Int,
                         fields: FieldsJSON.ObjectWriter? = nil) -> Result<ContactRow, RejectionReason> {
        guard !record.hasStrayQuote else {
            return .failure(RejectionReason("a quote ends a quoted field before the field does (as in \"Bob \"the builder\"\"); inside quotes, write a quote twice: \"Bob \"\"the builder\"\"\""))
        }
        guard record.fields.count == columns.count else {
            return .failure(RejectionReason("has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s"); the header has \(columns.count)"))
        }
        var values: [String] = []
        values.reserveCapacity(columns.count)
        for (index, column) in columns.enumerated() {
            let value = trimmed(record.fields[index])
            // A line break may sit in a quoted field (a postal address); nothing else below U+0020.
            if let bad = value.utf8.first(where: { ($0 < 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09) || $0 == 0x7F }) {
                return .failure(RejectionReason("column '\(column)' holds the control character U+\(String(format: "%04X", bad))"))
            }
            values.append(value)
        }
        let text = trimmed(record.fields[emailIndex])
        guard !text.isEmpty else { return .failure(RejectionReason("the address in column '\(columns[emailIndex])' is empty")) }
        let address: EmailAddress
        do {
            address = try EmailAddress(parsing: text)
        } catch {
            return .failure(RejectionReason(error.description))
        }
        return .success(ContactRow(address: address.normalized, displayAddress: address.description, smtpAddress: address.smtpForm,
                                   needsSMTPUTF8: address.needsSMTPUTF8, fields: fields ?? FieldsJSON.ObjectWriter(keys: columns),
                                   values: values, line: record.line))
    }

    private static func trimmed(_ value: String) -> String {
        // Most values have nothing to trim: look at the first and last bytes only.
        guard let first = value.utf8.first, let last = value.utf8.last,
              first == 0x20 || first == 0x09 || first == 0xC2 || last == 0x20 || last == 0x09 || last == 0xA0 else { return value }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{A0}" }
        guard let first = value.firstIndex(where: { !isSpace($0) }), let last = value.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(value[first...last])
    }
}

/// The rows of a table, read and validated on a thread of their own, handed over in batches.
final class ValidatedRows: @unchecked Sendable {
    enum Row: Sendable {
        case contact(ContactRow)
        case rejected(CSVRecord, String)
    }

    private struct Cancelled: Error {}

    private let table: RecipientTable
    private let columns: [String]
    private let emailIndex: Int
    private let feed = MessageFeed<[Row]>(capacity: 16)
    private let finished = DispatchSemaphore(value: 0)
    private let error = Locked<(any Error)?>(nil)
    private var started = false

    init(table: RecipientTable, columns: [String], emailIndex: Int) {
        self.table = table
        self.columns = columns
        self.emailIndex = emailIndex
    }

    func start() {
        started = true
        let thread = Thread { [self] in
            defer {
                feed.close()
                finished.signal()
            }
            var batch: [Row] = []
            batch.reserveCapacity(512)
            let fields = FieldsJSON.ObjectWriter(keys: columns)
            do {
                try table.forEachRow { record in
                    switch ContactImport.validate(record, columns: columns, emailIndex: emailIndex, fields: fields) {
                    case .success(let contact): batch.append(.contact(contact))
                    case .failure(let reason): batch.append(.rejected(record, reason.text))
                    }
                    if batch.count == 512 {
                        guard feed.put([batch]).isEmpty else { throw Cancelled() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { feed.put([batch]) }
            } catch is Cancelled {
            } catch {
                self.error.withLock { $0 = error }
            }
        }
        thread.name = "broadside-import-reader"
        thread.start()
    }

    /// The next batch; nil at the end (or after a read error: see `failure`).
    func next() -> [Row]? { feed.take() }

    var failure: (any Error)? { error.withLock { $0 } }

    /// Stops the reader (if it is still going) and waits for it.
    func cancel() {
        guard started else { return }
        started = false
        feed.close()
        finished.wait()
    }
}

struct RejectionReason: Error {
    var text: String
    init(_ text: String) { self.text = text }
}

/// The rejects file: a CSV of line, reason and the original row.
final class RejectsFile {
    private let handle: FileHandle
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BroadsideError.input("\(path): cannot write the rejects file")
        }
        self.handle = handle
        try handle.write(contentsOf: Data("line,reason,row\r\n".utf8))
    }

    func write(_ record: CSVRecord, reason: String) throws {
        let row = String(decoding: record.raw, as: UTF8.self)
        try handle.write(contentsOf: Data("\(CSVWriter.spreadsheetRecord([String(record.line), reason, row]))\r\n".utf8))
    }

    func close() throws {
        try handle.close()
    }
}
