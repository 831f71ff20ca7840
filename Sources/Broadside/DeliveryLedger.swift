import Delivery
import Foundation
import Store

/// Writes delivery records to the store from one thread, in batches (group commit):
/// whatever the connection threads hand in while a transaction commits goes into the
/// next one. A ticket says when a record is durable: that is how `awaiting_reply` is in
/// the database before the final `.` of DATA leaves.
///
/// Records are written in the order they were handed in, so once a connection's
/// `awaiting_reply` is committed, that connection's earlier outcomes are too: after a
/// crash at most one message per connection is left awaiting a reply.
final class DeliveryLedger: @unchecked Sendable {
    private let store: Store
    private let campaignID: Int64
    private let clock: any WallClock
    /// Guards `pending`, `handedIn` and `closed`; only the writer waits on it.
    private let intake = NSCondition()
    private var pending: [DeliveryRecord] = []
    private var handedIn = 0
    private var closed = false
    /// Guards `committed` and `failure`; the connection threads wait on it for their tickets.
    private let commits = NSCondition()
    private var committed = 0
    private var failure: (any Error)?
    private let finished = DispatchSemaphore(value: 0)

    init(store: Store, campaignID: Int64, clock: any WallClock) {
        self.store = store
        self.campaignID = campaignID
        self.clock = clock
        let thread = Thread { [self] in writeLoop() }
        thread.name = "broadside-ledger"
        thread.start()
    }

    /// Hands in a record and waits until it is committed; false if the store failed.
    func commit(_ record: DeliveryRecord) -> Bool {
        waitFor(append(record))
    }

    /// Hands in a record without waiting for it; the ticket says when it is committed.
    @discardableResult
    func append(_ record: DeliveryRecord) -> Int {
        intake.lock()
        defer { intake.unlock() }
        pending.append(record)
        handedIn += 1
        intake.signal()
        return handedIn
    }

    /// Waits until the record with this ticket is committed; false if the store failed.
    func waitFor(_ ticket: Int) -> Bool {
        commits.lock()
        defer { commits.unlock() }
        while committed < ticket && failure == nil { commits.wait() }
        return failure == nil
    }

    /// Waits until everything handed in so far is committed (or the store failed).
    func waitForCommits() {
        intake.lock()
        let target = handedIn
        intake.unlock()
        _ = waitFor(target)
    }

    var hasFailed: Bool {
        commits.lock()
        defer { commits.unlock() }
        return failure != nil
    }

    /// Writes what is left and stops; returns the store's error, if one occurred.
    func close() -> (any Error)? {
        intake.lock()
        closed = true
        intake.signal()
        intake.unlock()
        finished.wait()
        commits.lock()
        defer { commits.unlock() }
        return failure
    }

    private func writeLoop() {
        defer { finished.signal() }
        while true {
            intake.lock()
            while pending.isEmpty && !closed { intake.wait() }
            if pending.isEmpty && closed {
                intake.unlock()
                return
            }
            let batch = pending
            let upTo = handedIn
            pending.removeAll(keepingCapacity: true)
            intake.unlock()

            let error: (any Error)?
            do {
                try store.record(batch, campaignID: campaignID, now: clock.now())
                error = nil
            } catch let caught {
                error = caught
            }
            commits.lock()
            if let error { failure = error } else { committed = upTo }
            commits.broadcast()
            commits.unlock()
            if error != nil { return }
        }
    }
}
