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

    /// `progress`: rows so far, and the share of the file read (0 to 1), every 10,000 rows or so.
    public static func run(
        file path: String, options: ImportOptions, store: Store, now: Double,
        progress: ((_ rows: Int, _ fractionRead: Double) -> Void)? = nil
    ) throws -> ImportSummary {
        var summary = ImportSummary(list: options.listName)
        let reader = RecipientTable(path: path, delimiter: options.delimiter, encoding: options.encoding)
        let header = try reader.header()
        let emailIndex = try emailColumnIndex(in: header.columns, named: options.emailColumn, file: path)
        let rejects = try options.rejectsPath.map(RejectsFile.init(path:))
        defer { rejects?.discard() }

        // Reading and validating run on a thread of their own, ahead of the database
        // work on this one: two cores, two stages.
        let rows = ValidatedRows(table: reader, columns: header.columns, emailIndex: emailIndex)
        rows.start()
        defer { rows.cancel() }
        let result = try store.importContacts(list: options.listName, columns: header.columns, emailColumn: header.columns[emailIndex], now: now,
                                              sync: options.sync) { list in
            while let batch = rows.next() {
                let before = summary.rows
                summary.rows += batch.contacts.count + batch.rejected.count
                if let progress, summary.rows / 10_000 > before / 10_000 { progress(summary.rows, rows.fractionRead) }
                for (record, reason) in batch.rejected {
                    summary.rejected += 1
                    if summary.rejections.count < 100 { summary.rejections.append(Rejection(line: record.line, reason: reason)) }
                    try rejects?.write(record, reason: reason)
                }
                // What the rows do to the list is counted when the import is published;
                // here only a repeat within the file shows.
                summary.duplicates += try list.add(batch.contacts)
                rows.recycle(batch)
            }
            // A read error (an unterminated quote, a bad byte) ends the stream early: nothing is kept.
            if let error = rows.failure { throw error }
        }
        summary.suppressed = result.suppressed
        summary.imported = result.imported
        summary.updated = result.updated
        summary.unchanged = result.unchanged
        summary.removed = result.removed
        try rejects?.keep()
        progress?(summary.rows, 1)
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

    /// Checks one row and packs it into `batch`; why not, when the row is rejected.
    static func pack(_ row: CSVFields, columns: [String], emailIndex: Int, fields: FieldsJSON.ObjectWriter,
                     into batch: inout ContactBatch) -> RejectionReason? {
        guard !row.hasStrayQuote else {
            return RejectionReason("a quote ends a quoted field before the field does (as in \"Bob \"the builder\"\"); inside quotes, write a quote twice: \"Bob \"\"the builder\"\"\"")
        }
        guard row.count == columns.count else {
            return RejectionReason("has \(row.count) field\(row.count == 1 ? "" : "s"); the header has \(columns.count)")
        }
        for index in 0..<row.count {
            // A line break may sit in a quoted field (a postal address); nothing else below U+0020.
            if let bad = withTrimmed(row[index], { $0.first { ($0 < 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09) || $0 == 0x7F } }) {
                return RejectionReason("column '\(columns[index])' holds the control character U+\(String(format: "%04X", bad))")
            }
        }
        let address: WrittenAddress
        switch withTrimmed(row[emailIndex], { writeAddress($0, column: columns[emailIndex], into: &batch) }) {
        case .failure(let reason):
            return reason
        case .success(let written):
            address = written
        }
        let fieldsStart = batch.text.count
        for index in 0..<row.count {
            fields.writeKey(index, into: &batch.text)
            withTrimmed(row[index]) { FieldsJSON.writeString($0, into: &batch.text) }
        }
        fields.writeEnd(into: &batch.text)
        batch.add(line: row.line, address: address.normalized, smtpAddress: address.smtp, displayAddress: address.display,
                  needsSMTPUTF8: address.needsSMTPUTF8, fields: fieldsStart..<batch.text.count)
        return nil
    }

    /// Where a row's address went in its batch: the normalised form, and the SMTP and display
    /// forms where they differ from the one before.
    private struct WrittenAddress {
        var normalized: Range<Int>
        var smtp: Range<Int>?
        var display: Range<Int>?
        var needsSMTPUTF8: Bool
    }

    /// Checks the address and writes its forms into `batch`; why not (writing nothing), when it is not one.
    private static func writeAddress(_ text: UnsafeBufferPointer<UInt8>, column: String,
                                     into batch: inout ContactBatch) -> Result<WrittenAddress, RejectionReason> {
        guard !text.isEmpty else { return .failure(RejectionReason("the address in column '\(column)' is empty")) }
        // Most addresses: checked and lowercased as bytes.
        if let plain = EmailAddress.plainASCII(text) {
            let normalized = batch.writeLowercased(text)
            guard plain.localPartHasCapitals else { return .success(WrittenAddress(normalized: normalized, needsSMTPUTF8: false)) }
            let smtp = batch.write(UnsafeBufferPointer(rebasing: text[..<plain.at]))
            _ = batch.writeLowercased(UnsafeBufferPointer(rebasing: text[plain.at...]))
            return .success(WrittenAddress(normalized: normalized, smtp: smtp.lowerBound..<batch.text.count, needsSMTPUTF8: false))
        }
        let address: EmailAddress
        do throws(AddressError) {
            address = try EmailAddress(parsing: String(decoding: text, as: UTF8.self))
        } catch {
            return .failure(RejectionReason(error.description))
        }
        let (normalized, smtp, display) = (address.normalized, address.smtpForm, address.description)
        return .success(WrittenAddress(normalized: batch.write(normalized), smtp: smtp == normalized ? nil : batch.write(smtp),
                                       display: display == smtp ? nil : batch.write(display), needsSMTPUTF8: address.needsSMTPUTF8))
    }

    /// Calls `body` with the value without the spaces, tabs and no-break spaces around it
    /// (as whole characters: a space that a combining mark follows stays).
    private static func withTrimmed<R>(_ value: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        // Most values have nothing to trim: look at the first and last bytes only.
        guard let first = value.first, let last = value.last,
              first == 0x20 || first == 0x09 || first == 0xC2 || last == 0x20 || last == 0x09 || last == 0xA0 else { return body(value) }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{A0}" }
        let text = String(decoding: value, as: UTF8.self)
        guard let from = text.firstIndex(where: { !isSpace($0) }), let to = text.lastIndex(where: { !isSpace($0) }) else {
            return body(UnsafeBufferPointer(rebasing: value[0..<0]))
        }
        var trimmed = String(text[from...to])
        return trimmed.withUTF8(body)
    }
}

/// The rows of a table, read and validated on a thread of their own, handed over in batches.
final class ValidatedRows: @unchecked Sendable {
    /// Up to 512 rows: the contacts packed, the rejected rows as they stood in the file.
    struct Batch: Sendable {
        var contacts = ContactBatch()
        var rejected: [(CSVRecord, String)] = []
    }

    private struct Cancelled: Error {}

    private let table: RecipientTable
    private let columns: [String]
    private let emailIndex: Int
    private let feed = MessageFeed<Batch>(capacity: 16)
    /// Batches the writer is done with, to be filled again (their buffers keep their capacity).
    private let spares = Locked<[Batch]>([])
    private let finished = DispatchSemaphore(value: 0)
    private let error = Locked<(any Error)?>(nil)
    private var started = false
    private let bytesRead = Locked(0)
    private let fileSize: Int

    init(table: RecipientTable, columns: [String], emailIndex: Int) {
        self.table = table
        self.columns = columns
        self.emailIndex = emailIndex
        fileSize = (try? FileManager.default.attributesOfItem(atPath: table.path)[.size] as? Int) ?? 0
    }

    /// How much of the file the reader has read (it runs at most 16 batches ahead of the writer).
    var fractionRead: Double {
        fileSize > 0 ? min(1, Double(bytesRead.withLock { $0 }) / Double(fileSize)) : 0
    }

    func start() {
        started = true
        let thread = Thread { [self] in
            defer {
                feed.close()
                finished.signal()
            }
            var batch = Batch()
            let fields = FieldsJSON.ObjectWriter(keys: columns)
            do {
                try table.forEachRowFields({ row in
                    if let reason = ContactImport.pack(row, columns: columns, emailIndex: emailIndex, fields: fields, into: &batch.contacts) {
                        batch.rejected.append((row.record, reason.text))
                    }
                    if batch.contacts.count + batch.rejected.count == 512 {
                        guard feed.put([batch]).isEmpty else { throw Cancelled() }
                        batch = spares.withLock { $0.popLast() } ?? Batch()
                    }
                }, bytesRead: { read in self.bytesRead.withLock { $0 = read } })
                if batch.contacts.count + batch.rejected.count > 0 { feed.put([batch]) }
            } catch is Cancelled {
            } catch {
                self.error.withLock { $0 = error }
            }
        }
        thread.name = "broadside-import-reader"
        thread.start()
    }

    /// The next batch; nil at the end (or after a read error: see `failure`).
    func next() -> Batch? { feed.take() }

    /// Hands a batch the writer is done with back to the reader.
    func recycle(_ batch: Batch) {
        var batch = batch
        batch.contacts.removeAll()
        batch.rejected.removeAll(keepingCapacity: true)
        spares.withLock { if $0.count < 4 { $0.append(batch) } }
    }

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

/// The rejects file: a CSV of line, reason and the original row. It is written beside its
/// place and moved there only when the import is kept: an import that keeps nothing leaves
/// whatever file was there as it was.
final class RejectsFile {
    private let handle: FileHandle
    let path: String
    private let partial: String
    private var open = true

    init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        partial = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial").path
        // One left by an import that was killed (its process is gone) goes.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            let parts = name.split(separator: ".")
            guard name.hasPrefix(".\(url.lastPathComponent)."), name.hasSuffix(".partial"), parts.count >= 3,
                  let pid = Int32(parts[parts.count - 2]), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(folder.appendingPathComponent(name).path)
        }
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw BroadsideError.input("\(path): cannot write the rejects file here; give --rejects a path in a folder you can write")
        }
        self.handle = handle
        try handle.write(contentsOf: Data("line,reason,row\r\n".utf8))
    }

    func write(_ record: CSVRecord, reason: String) throws {
        let row = String(decoding: record.raw, as: UTF8.self)
        try handle.write(contentsOf: Data("\(CSVWriter.spreadsheetRecord([String(record.line), reason, row]))\r\n".utf8))
    }

    /// Puts the file in its place (replacing one that was there).
    func keep() throws {
        guard open else { return }
        open = false
        try handle.close()
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw BroadsideError.input("\(path): cannot write the rejects file (\(reason))")
        }
    }

    /// Removes what was written (unless it was kept).
    func discard() {
        guard open else { return }
        open = false
        try? handle.close()
        unlink(partial)
    }
}
