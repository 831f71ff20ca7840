import Foundation

/// One-click unsubscribes that could not reach the database (another process held it
/// for long: a big campaign being created, say), kept in a file beside it until they
/// can: a request is answered 200 only once it is in the database or synced to this
/// file, and nothing in the file is lost across a crash of `serve`.
final class UnsubscribeJournal: @unchecked Sendable {
    let path: String

    init(database: String) {
        let real = realpath(database, nil).map { pointer -> String in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? database
        path = real + "-unsubscribes"
    }

    /// Appends the requests and syncs them to the disk.
    func append(_ requests: [(campaign: Int64, message: Int64)], at time: Double) throws {
        let text = requests.map { "\($0.campaign) \($0.message) \(time)\n" }.joined()
        let file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw JournalError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(file) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(file) == 0 else { throw JournalError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// What is waiting to be applied (a line cut by a crash is left out: it was never answered 200).
    func pending() -> [(campaign: Int64, message: Int64, at: Double)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let campaign = Int64(parts[0]), let message = Int64(parts[1]), let at = Double(parts[2]) else { return nil }
            return (campaign, message, at)
        }
    }

    /// Everything in it has reached the database.
    func clear() {
        unlink(path)
    }

    struct JournalError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
