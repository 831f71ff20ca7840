import Delivery
import Foundation
import Store
import Synchronization

/// What a running `send` has in flight, in a memory-mapped file beside the database
/// (`<database>-inflight-<campaign>`): before the final `.` of DATA leaves, the attempt
/// is written here as awaiting a reply; when the reply comes, its result. The database
/// learns the results in batches within 20 ms; a slot is reused only once
/// the database has its result.
///
/// Why not commit `awaiting_reply` to SQLite before every final dot: that is a commit
/// per message on the critical path of every connection, and it cost a third of the
/// throughput. A store to a shared mapping is as durable against a crash of the process
/// as a commit in WAL mode with `synchronous=NORMAL` (both live in the OS's page cache
/// until written out) and takes nanoseconds. The next run reads what is left here: a
/// recorded result goes into the database, an attempt awaiting a reply becomes
/// `unknown` (at most one per connection), and nothing is sent twice.
///
/// The file is locked while a run uses it, so two `send`s of one campaign cannot run at once.
final class InFlightLog: @unchecked Sendable {
    /// Attempts a connection may have whose results the database has not committed yet.
    static let slotsPerConnection = 128
    static let slotSize = 1024

    let path: String
    /// What the previous run left, to be recovered before this run starts.
    let leftOver: [InFlightAttempt]
    private let file: Int32
    private var mapping: UnsafeMutableRawPointer?
    private var mappedSize = 0

    /// Beside the database *file*: a symbolic link or a relative path to the same file
    /// finds the same log and the same lock (else a run through a link would resend what
    /// the log holds, or send beside a running one).
    static func path(database: String, campaign: Int64) -> String {
        "\(realPath(database))-inflight-\(campaign)"
    }

    /// Whether a `send` of the campaign is running now (it holds the log's lock).
    static func isSending(database: String, campaign: Int64) -> Bool {
        let file = open(path(database: database, campaign: campaign), O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return false }
        defer { close(file) }
        guard flock(file, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(file, LOCK_UN)
        return false
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Opens and locks the campaign's log and reads what a previous run left in it.
    init(path: String) throws {
        let file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard file >= 0 else {
            throw EngineError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(file, LOCK_EX | LOCK_NB) == 0 else {
            close(file)
            throw EngineError("another `broadside send` is sending this campaign (\(path) is locked); wait for it to finish or pause it")
        }
        self.path = path
        self.file = file
        leftOver = Self.attempts(in: file)
    }

    private static func attempts(in file: Int32) -> [InFlightAttempt] {
        var info = stat()
        guard fstat(file, &info) == 0, info.st_size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let read = bytes.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, 0) }
        return bytes.withUnsafeBytes { raw in
            stride(from: 0, through: read - slotSize, by: slotSize).compactMap { offset in
                Slot.read(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + slotSize]))
            }
        }
    }

    /// Empties the log for this run (call once `leftOver` is recovered) and maps it.
    func start(connections: Int) throws {
        let size = max(1, connections) * Self.slotsPerConnection * Self.slotSize
        guard ftruncate(file, 0) == 0 else {
            throw EngineError("cannot prepare \(path): \(String(cString: strerror(errno)))")
        }
        // Its blocks are reserved now: a store into a page the disk has no room for would
        // kill the process with SIGBUS in the middle of a send.
        let reserved = posix_fallocate(file, 0, off_t(size))
        guard reserved == 0 else {
            let why = reserved == ENOSPC ? "no space left on the device" : String(cString: strerror(reserved))
            throw EngineError("cannot reserve \(size / 1024) KB for \(path): \(why); free some space, then resume")
        }
        guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0), address != MAP_FAILED else {
            throw EngineError("cannot prepare \(path): \(String(cString: strerror(errno)))")
        }
        mapping = address
        mappedSize = size
    }

    /// The end of DATA is about to be sent for `attempt` of `message`.
    func awaitingReply(connection: Int, slot: Int, message: Int64, attempt: Int) {
        let slot = Slot(base: address(connection: connection, slot: slot))
        slot.begin(message: message, attempt: attempt, connection: connection)
        slot.publish(.awaitingReply)
    }

    /// The attempt's result (in the same slot as its `awaitingReply`, if it got that far).
    func finished(connection: Int, slot: Int, attempt: Int, result: AttemptResult) {
        let slot = Slot(base: address(connection: connection, slot: slot))
        // An attempt awaiting its reply stays so until the result is complete.
        if !slot.holds(.awaitingReply, message: result.message, attempt: attempt) {
            slot.begin(message: result.message, attempt: attempt, connection: connection)
        }
        slot.write(result)
        slot.publish(.finished)
    }

    /// The run ended with every result in the database: the log goes.
    func remove() {
        unlink(path)
    }

    deinit {
        if let mapping { munmap(mapping, mappedSize) }
        close(file)   // releases the lock
    }

    private func address(connection: Int, slot: Int) -> UnsafeMutableRawPointer {
        guard let mapping else { preconditionFailure("InFlightLog.start was not called") }
        let index = (connection - 1) * Self.slotsPerConnection + slot
        precondition(index >= 0 && (index + 1) * Self.slotSize <= mappedSize, "in-flight slot out of range")
        return mapping + index * Self.slotSize
    }
}

/// One attempt in the log, 1 KB. The kind byte is written last, after a fence: a slot
/// caught half-written by a crash reads as empty (new) or as still awaiting its reply.
private struct Slot {
    enum Kind: UInt8 {
        case empty = 0
        case awaitingReply = 1
        case finished = 2
    }

    // Offsets in the slot.
    static let kind = 0, connection = 4, smtpCode = 8, replySeconds = 12, message = 16, attempt = 24, at = 32, nextAttemptAt = 40
    static let state = 48, enhancedStatus = 80, reason = 112, reply = 240, relay = InFlightLog.slotSize - relayText
    static let shortText = 32, reasonText = 128
    /// A relay's name fits (`RelaySection` keeps names to 60 bytes); last in the slot, where a
    /// log written before relays were recorded holds zeros: no relay.
    static let relayText = 64

    let base: UnsafeMutableRawPointer

    func holds(_ kind: Kind, message: Int64, attempt: Int) -> Bool {
        base.load(fromByteOffset: Self.kind, as: UInt8.self) == kind.rawValue
            && base.load(fromByteOffset: Self.message, as: Int64.self) == message
            && base.load(fromByteOffset: Self.attempt, as: Int64.self) == Int64(attempt)
    }

    func begin(message: Int64, attempt: Int, connection: Int) {
        base.storeBytes(of: Kind.empty.rawValue, toByteOffset: Self.kind, as: UInt8.self)
        atomicMemoryFence(ordering: .releasing)
        base.storeBytes(of: Int32(connection), toByteOffset: Self.connection, as: Int32.self)
        base.storeBytes(of: message, toByteOffset: Self.message, as: Int64.self)
        base.storeBytes(of: Int64(attempt), toByteOffset: Self.attempt, as: Int64.self)
    }

    func write(_ result: AttemptResult) {
        base.storeBytes(of: Int32(result.smtpCode ?? -1), toByteOffset: Self.smtpCode, as: Int32.self)
        base.storeBytes(of: result.at, toByteOffset: Self.at, as: Double.self)
        base.storeBytes(of: result.nextAttemptAt ?? .nan, toByteOffset: Self.nextAttemptAt, as: Double.self)
        put(result.state.rawValue, at: Self.state, capacity: Self.shortText)
        put(result.enhancedStatus, at: Self.enhancedStatus, capacity: Self.shortText)
        put(result.reason, at: Self.reason, capacity: Self.reasonText)
        put(result.reply, at: Self.reply, capacity: Self.relay - Self.reply)
        put(result.relay, at: Self.relay, capacity: Self.relayText)
        base.storeBytes(of: Float(result.replySeconds ?? .nan), toByteOffset: Self.replySeconds, as: Float.self)
    }

    func publish(_ kind: Kind) {
        atomicMemoryFence(ordering: .releasing)
        base.storeBytes(of: kind.rawValue, toByteOffset: Self.kind, as: UInt8.self)
    }

    /// Text as a 2-byte length and UTF-8, cut at a character boundary to fit; nil as length 0xFFFF.
    private func put(_ text: String?, at offset: Int, capacity: Int) {
        guard let text else {
            base.storeBytes(of: UInt16.max, toByteOffset: offset, as: UInt16.self)
            return
        }
        var bytes = Array(text.utf8.prefix(capacity - 2))
        if bytes.count < text.utf8.count {
            // Never end inside a character: drop a partial one.
            while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
            if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        }
        base.storeBytes(of: UInt16(bytes.count), toByteOffset: offset, as: UInt16.self)
        bytes.withUnsafeBytes { raw in
            if let start = raw.baseAddress { (base + offset + 2).copyMemory(from: start, byteCount: raw.count) }
        }
    }

    /// The attempt a slot holds, if any.
    static func read(_ slot: UnsafeRawBufferPointer) -> InFlightAttempt? {
        guard let kind = Kind(rawValue: slot.loadUnaligned(fromByteOffset: Self.kind, as: UInt8.self)), kind != .empty else { return nil }
        let message = slot.loadUnaligned(fromByteOffset: Self.message, as: Int64.self)
        let attempt = Int(slot.loadUnaligned(fromByteOffset: Self.attempt, as: Int64.self))
        let connection = Int(slot.loadUnaligned(fromByteOffset: Self.connection, as: Int32.self))
        guard kind == .finished else { return InFlightAttempt(message: message, attempt: attempt, connection: connection, result: nil) }
        guard let stateName = text(slot, at: Self.state), let state = MessageState(rawValue: stateName) else {
            // Unreadable: the safe reading is that it may have been delivered.
            return InFlightAttempt(message: message, attempt: attempt, connection: connection, result: nil)
        }
        let code = slot.loadUnaligned(fromByteOffset: Self.smtpCode, as: Int32.self)
        let next = slot.loadUnaligned(fromByteOffset: Self.nextAttemptAt, as: Double.self)
        let replySeconds = slot.loadUnaligned(fromByteOffset: Self.replySeconds, as: Float.self)
        let result = AttemptResult(message: message, state: state, at: slot.loadUnaligned(fromByteOffset: Self.at, as: Double.self),
                                   nextAttemptAt: next.isNaN ? nil : next, smtpCode: code < 0 ? nil : Int(code),
                                   enhancedStatus: text(slot, at: Self.enhancedStatus), reply: text(slot, at: Self.reply) ?? "",
                                   reason: text(slot, at: Self.reason), connection: connection,
                                   relay: text(slot, at: Self.relay).flatMap { $0.isEmpty ? nil : $0 },
                                   replySeconds: replySeconds.isNaN || replySeconds <= 0 ? nil : Double(replySeconds))
        return InFlightAttempt(message: message, attempt: attempt, connection: connection, result: result)
    }

    private static func text(_ slot: UnsafeRawBufferPointer, at offset: Int) -> String? {
        let length = Int(slot.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        guard length != Int(UInt16.max), offset + 2 + length <= slot.count else { return nil }
        return String(decoding: slot[(offset + 2)..<(offset + 2 + length)], as: UTF8.self)
    }
}

extension CampaignRecord {
    /// A `send` or `resume` of this campaign is running now, in any process.
    public func isSending(in store: Store) -> Bool {
        InFlightLog.isSending(database: store.path, campaign: id)
    }
}
