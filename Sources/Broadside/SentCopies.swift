import Delivery
import Foundation
import Logging
import Store
import Transport

/// Each message's bytes as they go to the server (`<db>-sent-<campaign>/ID.eml`), kept
/// until its copy is in the Sent folder: the copy is the message as sent, byte for byte,
/// even when it is appended by a later run after a crash.
public struct SentSpool: Sendable {
    public let folder: URL

    public init(database: String, campaign: Int64) {
        folder = URL(fileURLWithPath: "\(database)-sent-\(campaign)")
    }

    /// Written before the message goes (a rename, so a crash never leaves half a file); a
    /// retry writes the new rendering over the old.
    public func keep(_ message: OutgoingMessage) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let staged = folder.appendingPathComponent(".\(message.id).eml.tmp")
        try Data(message.data).write(to: staged)
        guard rename(staged.path, file(message.id).path) == 0 else {
            throw BroadsideError.environment("cannot keep the Sent copy in \(folder.path): \(String(cString: strerror(errno)))")
        }
    }

    func file(_ message: Int64) -> URL { folder.appendingPathComponent("\(message).eml") }

    func bytes(of message: Int64) -> [UInt8]? {
        FileManager.default.contents(atPath: file(message).path).map { [UInt8]($0) }
    }

    func remove(_ messages: [Int64]) {
        for message in messages { try? FileManager.default.removeItem(at: file(message)) }
    }
}

/// Appends a copy of each accepted message to the sender's Sent folder (`--save-sent`), on
/// an IMAP connection of its own, in batches, beside the sending (never in its way). Each
/// copy is recorded `appending` before its APPEND and `appended` after; a copy left
/// `appending` by a crash is looked for in the folder by its Message-ID first, so every
/// message is there exactly once.
public final class SentCopier: @unchecked Sendable {
    public struct Summary: Sendable {
        public var appended = 0
        /// Copies still due when the run ended (the folder could not be reached); the next run appends them.
        public var waiting = 0
        /// Copies whose bytes are gone (their spool file was removed by hand): never appended.
        public var lost = 0
    }

    private let store: Store
    private let campaignID: Int64
    private let spool: SentSpool
    private let account: IMAPMailbox.Account
    private let logger: Logger
    private let batchSize = 50
    private let wake = NSCondition()
    /// Guarded by `wake`.
    private var finishing = false
    private var summary = Summary()
    private var lost: Set<Int64> = []
    private var mailbox: IMAPMailbox?
    private let done = DispatchSemaphore(value: 0)

    public init(store: Store, campaignID: Int64, spool: SentSpool, account: IMAPMailbox.Account, logger: Logger) {
        self.store = store
        self.campaignID = campaignID
        self.spool = spool
        self.account = account
        self.logger = logger
    }

    /// Signs in and opens the folder, before anything else is written: a wrong folder or
    /// sign-in stops `send` here (exit 3).
    public static func verify(_ account: IMAPMailbox.Account) throws {
        do {
            _ = try IMAPMailbox(account).search(messageID: "broadside-check@invalid")
        } catch {
            throw BroadsideError.environment("cannot keep Sent copies in \(account.url): \(error.message) (is the folder's name right? Exchange: Sent%20Items; Gmail: %5BGmail%5D/Sent%20Mail)")
        }
    }

    public func start() {
        Thread { [self] in
            var pause = 1.0
            while true {
                let last = wake.withLock { finishing }
                let appended = appendDue()
                if last && (appended == nil || appended == 0) { break }
                if appended == nil {
                    pause = min(pause * 2, 60)   // the folder cannot be reached: try again later
                } else {
                    pause = 1
                    if appended! > 0 { continue }
                }
                wake.withLock { if !finishing { _ = wake.wait(until: Date().addingTimeInterval(pause)) } }
            }
            done.signal()
        }.start()
    }

    /// Appends what is still due (once more if the folder was unreachable), then stops.
    public func finish() -> Summary {
        wake.withLock {
            finishing = true
            wake.broadcast()
        }
        done.wait()
        summary.waiting = ((try? store.sentCopiesDue(campaignID: campaignID, limit: Int.max).count) ?? 0) - lost.count
        summary.lost = lost.count
        return summary
    }

    /// One batch: how many were appended, or nil when the folder or the database failed.
    private func appendDue() -> Int? {
        do {
            let due = try store.sentCopiesDue(campaignID: campaignID, limit: batchSize + lost.count).filter { !lost.contains($0.message) }
            if due.isEmpty { return 0 }
            let mailbox = try self.mailbox ?? IMAPMailbox(account)
            self.mailbox = mailbox
            try store.beginSentCopies(due.filter { !$0.begun }.map(\.message), now: Date().timeIntervalSince1970)
            var appended: [Int64] = []
            defer {
                // What is in the folder is recorded even when a later append of the batch failed.
                try? store.finishSentCopies(appended, now: Date().timeIntervalSince1970)
                spool.remove(appended)
                summary.appended += appended.count
            }
            for copy in due {
                if copy.begun, !(try mailbox.search(messageID: copy.messageID)).isEmpty {
                    appended.append(copy.message)   // appended before a crash, not recorded then
                    continue
                }
                guard let bytes = spool.bytes(of: copy.message) else {
                    lost.insert(copy.message)
                    logger.warning("the Sent copy of message \(copy.message) cannot be appended: its file in \(spool.folder.path) is gone")
                    continue
                }
                try mailbox.append(bytes)
                appended.append(copy.message)
            }
            return appended.count
        } catch {
            mailbox = nil
            logger.warning("Sent copies wait: \(error)")
            return nil
        }
    }
}
