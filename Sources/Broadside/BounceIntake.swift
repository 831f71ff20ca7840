import Bounces
import Foundation
import Messages
import Signing
import Store
import Transport

/// Takes bounce messages from files, Maildir folders, mbox files or an IMAP mailbox,
/// parses them, and records each report against its message. Never stops on a bad
/// message: it is reported and skipped.
public struct BounceIntake {
    public struct Summary: Sendable, Codable {
        public var messages = 0
        public var bounces = 0
        public var matched = 0
        public var unmatched = 0
        public var duplicates = 0
        /// Auto-replies and delivery notices: recognised and left alone.
        public var ignored = 0
        public var suppressed = 0
        /// Unsubscribe requests by mail (the mailto link of List-Unsubscribe) honoured.
        public var unsubscribed = 0
        /// Answers to our messages (In-Reply-To or References names one): by people, and automatic (RFC 3834).
        public var replies = 0
        public var autoReplies = 0
        /// Messages that are no bounce at all, or could not be read: (source, why).
        public var skipped: [Skipped] = []
        /// Messages larger than 20 MiB, of which only the start was read.
        public var truncated: [String] = []

        public init() {}

        public struct Skipped: Sendable, Codable {
            public var source: String
            public var reason: String
        }
    }

    let store: Store
    let policy: SuppressionPolicy
    let now: Double
    /// Decodes signed return paths (any domain), when the secret is known.
    let verp: VERPAddress?
    /// Verifies the tokens of unsubscribe requests, when the secret is known.
    let tokens: UnsubscribeToken?

    /// Whether a bounce that names only a recipient (no signed return path, no Message-ID
    /// of ours) may be matched by it: anyone can send such a bounce.
    let matchByRecipient: Bool

    public init(store: Store, policy: SuppressionPolicy = SuppressionPolicy(), now: Double, secret: String? = nil,
                matchByRecipient: Bool = false) {
        self.matchByRecipient = matchByRecipient
        self.store = store
        self.policy = policy
        self.now = now
        self.verp = secret.map { VERPAddress(domain: "*", secret: $0, database: store.identity) }
        self.tokens = secret.map { UnsubscribeToken(secret: $0, database: store.identity) }
    }

    /// The most of one message that is read; the rest of a larger one is passed over and
    /// the message reported as cut (a bounce says what it must at its start).
    static let maximumMessageBytes = 20 << 20
    /// How much of a file is read at a time: an mbox of any size is read whole.
    static let chunkBytes = 1 << 20

    /// One message of a file: where it came from and its bytes.
    public struct FoundMessage: Sendable {
        /// The file, or `FILE#N` for the Nth message of an mbox.
        public var source: String
        public var bytes: [UInt8]
        /// Over `maximumMessageBytes`: only its start was read.
        public var truncated: Bool
    }

    /// Calls `body` with every message in these paths, one at a time: `.eml` files, mbox
    /// files, Maildir folders (cur/ and new/), folders of files. `bytesRead`: after each
    /// message, how many bytes of all the files are read, and how many there are.
    public static func forEachMessage(in paths: [String], _ body: (FoundMessage) throws -> Void,
                                      bytesRead: ((_ read: Int, _ of: Int) -> Void)? = nil) throws {
        let found = try messageFiles(in: paths)
        let total = found.reduce(0) { $0 + $1.size }
        var done = 0
        for file in found {
            try read(file.path) { message, readInFile in
                try body(message)
                bytesRead?(done + readInFile, total)
            }
            done += file.size
        }
    }

    /// The files these paths name or hold, in the order they are read, with their sizes.
    private static func messageFiles(in paths: [String]) throws -> [(path: String, size: Int)] {
        let files = FileManager.default
        func size(_ path: String) throws -> Int {
            guard files.isReadableFile(atPath: path) else { throw BroadsideError.input("\(path): cannot read (check its permissions)") }
            return (try? files.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        }
        var found: [(path: String, size: Int)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw BroadsideError.input("\(path): no such file or folder")
            }
            if isDirectory.boolValue {
                let maildir = ["cur", "new"].map { (path as NSString).appendingPathComponent($0) }.filter { files.fileExists(atPath: $0) }
                for folder in maildir.isEmpty ? [path] : maildir {
                    for name in (try? files.contentsOfDirectory(atPath: folder))?.sorted() ?? [] where !name.hasPrefix(".") {
                        let file = (folder as NSString).appendingPathComponent(name)
                        var isSub: ObjCBool = false
                        if files.fileExists(atPath: file, isDirectory: &isSub), !isSub.boolValue {
                            found.append((file, try size(file)))
                        }
                    }
                }
            } else {
                found.append((path, try size(path)))
            }
        }
        return found
    }

    /// `body`: each message, and how many bytes of the file are read so far.
    private static func read(_ file: String, _ body: (FoundMessage, Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw BroadsideError.input("\(file): cannot read") }
        defer { try? handle.close() }
        var read = 0
        func next() throws -> Data {
            do {
                let chunk = try handle.read(upToCount: chunkBytes) ?? Data()
                read += chunk.count
                return chunk
            } catch {
                throw BroadsideError.environment("\(file): cannot read: \(error.localizedDescription)")
            }
        }
        var chunk = try next()
        guard Mbox.looksLikeMbox(chunk) else {
            // One message: its first maximumMessageBytes, and whether there was more.
            var bytes: [UInt8] = []
            var truncated = false
            while !chunk.isEmpty {
                let room = maximumMessageBytes - bytes.count
                bytes += chunk.prefix(room)
                if chunk.count > room { truncated = true; break }
                chunk = try next()
            }
            return try body(FoundMessage(source: file, bytes: bytes, truncated: truncated), read)
        }
        // An mbox: a single message keeps the file's name, several are FILE#1, FILE#2, …
        var splitter = MboxSplitter(limit: maximumMessageBytes)
        var first: MboxSplitter.Message?
        var count = 0
        func emit(_ message: MboxSplitter.Message) throws {
            count += 1
            if count == 1 { first = message; return }
            if count == 2, let first { try body(FoundMessage(source: "\(file)#1", bytes: first.bytes, truncated: first.truncated), read) }
            try body(FoundMessage(source: "\(file)#\(count)", bytes: message.bytes, truncated: message.truncated), read)
        }
        while !chunk.isEmpty {
            try splitter.feed(chunk, emit)
            chunk = try next()
        }
        try splitter.finish(emit)
        if count == 1, let first { try body(FoundMessage(source: file, bytes: first.bytes, truncated: first.truncated), read) }
    }

    /// Parses one message and records what it says.
    public func process(_ bytes: [UInt8], source: String, into summary: inout Summary) throws {
        summary.messages += 1
        if let token = UnsubscribeRequest.token(in: MailMessage(bytes: bytes)) {
            guard let tokens else {
                summary.skipped.append(.init(source: source, reason: "an unsubscribe request; set BROADSIDE_SECRET to verify its token"))
                return
            }
            guard let (campaign, message) = tokens.decode(token), try store.unsubscribe([(campaign, message)], source: "mailto", now: now) == [true] else {
                summary.skipped.append(.init(source: source, reason: "an unsubscribe request whose token does not verify"))
                return
            }
            summary.unsubscribed += 1
            return
        }
        let reports = BounceParser.parse(bytes)
        // An answer to one of our messages, not a failure report (Exchange's NDRs carry In-Reply-To too).
        if reports.allSatisfy({ $0.kind == .autoReply }) {
            let mail = MailMessage(bytes: bytes)
            let answered = ReplyReference.ids(in: mail)
            if !answered.isEmpty {
                let automatic = !reports.isEmpty
                let source = mail.header("Message-ID").map { "id:" + $0.trimmingCharacters(in: .whitespaces) } ?? "digest:\(Fingerprint.of(bytes))"
                switch try store.recordReply(to: answered, automatic: automatic, source: source, now: now) {
                case .recorded:
                    if automatic { summary.autoReplies += 1 } else { summary.replies += 1 }
                    return
                case .duplicate:
                    summary.duplicates += 1
                    return
                case .unmatched:
                    break
                }
            }
        }
        if reports.isEmpty {
            summary.skipped.append(.init(source: source, reason: bytes.isEmpty ? "empty" : "not a bounce message, or unreadable"))
            return
        }
        let digest = Fingerprint.of(bytes)
        for (index, report) in reports.enumerated() {
            if report.kind == .autoReply || report.kind == .delivered {
                summary.ignored += 1
                continue
            }
            guard report.recipient != nil || report.messageID != nil else {
                summary.skipped.append(.init(source: source, reason: "a bounce that names no recipient and no original message"))
                continue
            }
            summary.bounces += 1
            let verpMessage = report.returnPath.flatMap { verp?.decode($0) }?.message
            // Sent to a return path of our form whose tag does not hold: forged, so nothing it names is believed.
            let forged = verp != nil && verpMessage == nil && report.returnPath.map(VERPAddress.hasVERPForm) == true
            switch try store.recordBounce(report, source: source, fingerprint: "\(digest)#\(index)#\(report.recipient ?? "")",
                                          verpMessage: verpMessage, byMessageID: !forged, byRecipient: !forged && matchByRecipient,
                                          policy: policy, now: now) {
            case .duplicate: summary.duplicates += 1
            case .unmatched: summary.unmatched += 1
            case .matched(_, _, let suppressed):
                summary.matched += 1
                if suppressed { summary.suppressed += 1 }
            }
        }
    }

    /// What to do with a fetched message once it is recorded.
    public enum AfterFetch: Sendable {
        case markSeen, move(String), delete
    }

    /// Fetches the messages that arrived since the last fetch (by UID, checking
    /// UIDVALIDITY), records them, then marks, moves or deletes each.
    /// `progress`: after each message, how many are fetched, of how many, and the summary so far.
    public func fetch(_ account: IMAPMailbox.Account, after: AfterFetch, into summary: inout Summary,
                      progress: ((_ fetched: Int, _ of: Int, _ summary: Summary) -> Void)? = nil) throws {
        let mailbox = try IMAPMailbox(account)
        let key = "\(account.user)@\(account.url)"
        let cursor = try store.mailboxCursor(key)
        var lastUID = cursor?.lastUID ?? 0
        var (validity, uids) = try mailbox.messages(after: lastUID)
        if let cursor, cursor.uidValidity != validity {
            // A new UIDVALIDITY means the UIDs were reassigned: read the mailbox from the start.
            lastUID = 0
            (validity, uids) = try mailbox.messages(after: 0)
        }
        let due = uids.filter { $0 > lastUID }
        for (index, uid) in due.enumerated() {
            defer { progress?(index + 1, due.count, summary) }
            let bytes = try mailbox.fetch(uid: uid)
            try process(bytes, source: "\(account.url);UID=\(uid)", into: &summary)
            switch after {
            case .markSeen: try mailbox.markSeen(uid: uid)
            case .move(let folder): try mailbox.move(uid: uid, to: folder)
            case .delete: try mailbox.delete(uid: uid)
            }
            // Remembered message by message: a crash part-way does not fetch the rest twice.
            try store.setMailboxCursor(key, uidValidity: validity, lastUID: uid)
        }
        if uids.isEmpty { try store.setMailboxCursor(key, uidValidity: validity, lastUID: lastUID) }
    }
}

/// A 64-bit FNV-1a of a message's bytes, in hex: enough to know the same message again.
enum Fingerprint {
    static func of(_ bytes: [UInt8]) -> String {
        String(FNV1a.hash(bytes), radix: 16) + ":\(bytes.count)"
    }
}
