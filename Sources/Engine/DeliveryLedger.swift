import Delivery
import Foundation
import Store

/// Writes delivery records to the store in batches (group commit): whatever is handed
/// in while one transaction commits goes into the next. A background thread writes
/// them within 20 ms of their arrival; the connections do not wait for it
/// (the in-flight log holds their results meanwhile). A ticket says when a record is
/// committed, for the few who must know: a connection reusing a slot of the in-flight
/// log, and `--follow` before it looks for deferred messages.
///
/// Whoever waits for a ticket writes the pending batch itself when no one else is
/// writing (flat combining) instead of waking a writer thread, which on a busy machine
/// can wait a scheduler tick to run.
final class DeliveryLedger: @unchecked Sendable {
    private let store: Store
    private let campaignID: Int64
    private let clock: any WallClock
    /// How long a record nobody waits for may stay unwritten.
    private let flushDelay: Double
    /// Guards everything below.
    private let condition = NSCondition()
    private var pending: [DeliveryRecord] = []
    private var handedIn = 0
    private var committed = 0
    /// A batch is being written (by whichever thread took it).
    private var writing = false
    private var closed = false
    private var failure: (any Error)?
    /// The background thread sleeps with nothing to write: an append wakes it.
    private var backgroundIdle = false
    private let finished = DispatchSemaphore(value: 0)

    /// The suppression policy's `hard_bounces`: a dead address refused at SMTP time is suppressed.
    private let suppressDeadAddresses: Bool

    init(store: Store, campaignID: Int64, clock: any WallClock, flushDelay: Double = 0.02, suppressDeadAddresses: Bool = true) {
        self.store = store
        self.suppressDeadAddresses = suppressDeadAddresses
        self.campaignID = campaignID
        self.clock = clock
        self.flushDelay = flushDelay
        let thread = Thread { [self] in backgroundLoop() }
        thread.name = "broadside-ledger"
        thread.start()
    }

    /// Hands in a record without waiting for it; the ticket says when it is committed.
    @discardableResult
    func append(_ record: DeliveryRecord) -> Int {
        condition.lock()
        defer { condition.unlock() }
        pending.append(record)
        handedIn += 1
        if backgroundIdle { condition.broadcast() }
        return handedIn
    }

    /// Waits until the record with this ticket is committed, writing the pending batch
    /// itself if no one else is; false if the store failed.
    func waitFor(_ ticket: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while committed < ticket && failure == nil {
            if writing {
                condition.wait()
            } else {
                writePendingLocked()
            }
        }
        return failure == nil
    }

    /// Waits until everything handed in so far is committed (or the store failed).
    func waitForCommits() {
        condition.lock()
        let target = handedIn
        condition.unlock()
        _ = waitFor(target)
    }

    var hasFailed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return failure != nil
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

    /// Takes the pending batch and writes it; called and returns with the lock held.
    private func writePendingLocked() {
        writing = true
        let batch = pending
        let upTo = handedIn
        pending.removeAll(keepingCapacity: true)
        condition.unlock()
        var error: (any Error)?
        do {
            try store.record(batch, campaignID: campaignID, now: clock.now(), suppressDeadAddresses: suppressDeadAddresses)
        } catch let caught {
            error = caught
        }
        condition.lock()
        writing = false
        if let error { failure = error } else { committed = upTo }
        condition.broadcast()
    }

    /// Writes records nobody waits for within `flushDelay` of their arrival, and
    /// everything left at the end.
    private func backgroundLoop() {
        defer { finished.signal() }
        condition.lock()
        defer { condition.unlock() }
        while failure == nil {
            if committed == handedIn && !writing {
                if closed { return }
                backgroundIdle = true
                condition.wait()
                backgroundIdle = false
                continue
            }
            if !closed {
                // Give the connections a moment to take these along with their next commit.
                let since = handedIn
                _ = condition.wait(until: Date(timeIntervalSinceNow: flushDelay))
                if committed >= since && !closed { continue }
            }
            if writing {
                condition.wait()
            } else if committed < handedIn {
                writePendingLocked()
            }
        }
    }
}
