import Delivery
import Foundation
import Store

/// Writes delivery records to the store from one thread, in batches (group commit):
/// whatever the connection threads hand in while a transaction commits goes into the
/// next one. `commit` waits until its record is durable: that is how `awaiting_reply`
/// is in the database before the final `.` of DATA leaves.
///
/// Records are written in the order they were handed in, so once a connection's
/// `awaiting_reply` is committed, that connection's earlier outcomes are too: after a
/// crash at most one message per connection is left awaiting a reply.
final class DeliveryLedger: @unchecked Sendable {
    private let store: Store
    private let campaignID: Int64
    private let clock: any WallClock
    private let condition = NSCondition()
    private var pending: [DeliveryRecord] = []
    private var handedIn = 0
    private var committed = 0
    private var closed = false
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
        condition.lock()
        defer { condition.unlock() }
        guard failure == nil, !closed else { return false }
        pending.append(record)
        handedIn += 1
        let mine = handedIn
        condition.broadcast()
        while committed < mine && failure == nil { condition.wait() }
        return failure == nil
    }

    /// Hands in a record without waiting for it.
    func append(_ record: DeliveryRecord) {
        condition.lock()
        pending.append(record)
        handedIn += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until everything handed in so far is committed (or the store failed).
    func waitForCommits() {
        condition.lock()
        defer { condition.unlock() }
        let target = handedIn
        while committed < target && failure == nil { condition.wait() }
    }

    /// Writes what is left and stops; returns the store's error, if one occurred.
    func close() -> (any Error)? {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    var hasFailed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return failure != nil
    }

    private func writeLoop() {
        defer { finished.signal() }
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed {
                condition.unlock()
                return
            }
            let batch = pending
            let upTo = handedIn
            pending.removeAll(keepingCapacity: true)
            condition.unlock()

            do {
                try store.record(batch, campaignID: campaignID, now: clock.now())
                condition.lock()
                committed = upTo
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = error
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
