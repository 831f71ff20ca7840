import Addresses
import Store

/// `suppress import`: every address of a CSV onto the suppression list, in one transaction.
/// Invalid rows are reported with their line and skipped.
public enum SuppressionImport {
    public struct Result: Sendable {
        public var added = 0
        public var already = 0
        public var rejected: [Rejection] = []
    }

    public static func run(file path: String, emailColumn: String?, defaultReason: String, store: Store, now: Double) throws -> Result {
        let table = RecipientTable(path: path)
        let header = try table.header()
        let emailIndex = try ContactImport.emailColumnIndex(in: header.columns, named: emailColumn, file: path)
        let reasonIndex = header.columns.firstIndex { $0.lowercased() == "reason" }
        var result = Result()
        var entries: [(address: String, reason: String)] = []
        try table.forEachRow { record in
            guard emailIndex < record.fields.count else {
                result.rejected.append(Rejection(line: record.line, reason: "has no field for the email column"))
                return
            }
            do {
                let address = try EmailAddress(parsing: record.fields[emailIndex]).normalized
                let reason = reasonIndex.flatMap { $0 < record.fields.count ? record.fields[$0] : nil }.flatMap { $0.isEmpty ? nil : $0 } ?? defaultReason
                entries.append((address, reason))
            } catch {
                result.rejected.append(Rejection(line: record.line, reason: "\(error)"))
            }
        }
        result.added = try store.suppress(entries, source: "import", now: now)
        result.already = entries.count - result.added
        return result
    }
}
