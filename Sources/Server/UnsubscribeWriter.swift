import Foundation
import Store

/// Writes one-click unsubscribes, folding the ones that arrive together into one SQLite
/// transaction: the database takes one writer at a time, so under load a transaction
/// per request would queue; batching keeps each request's wait to about one commit.
/// A request is answered only after its transaction has committed.
final class UnsubscribeWriter: @unchecked Sendable {
    private typealias Request = (campaign: Int64, message: Int64, done: CheckedContinuation<Bool, Error>)

    private let store: Store
    private let journal: UnsubscribeJournal
    private let lock = NSLock()
    private var pending: [Request] = []
    private var writing = false
    private let queue = DispatchQueue(label: "broadside.unsubscribe-writer")

    /// `store` should wait for the database only briefly: a request it cannot write in that
    /// time goes to the journal and is answered.
    init(store: Store, journal: UnsubscribeJournal) {
        self.store = store
        self.journal = journal
        queue.async { self.replay() }
    }

    /// Applies what the journal holds; while the database is still busy, tries again in a second.
    private func replay() {
        let entries = journal.pending()
        guard !entries.isEmpty else { return }
        do {
            // Entries keep the time they were asked for; one write per distinct time is rare enough.
            for (time, group) in Dictionary(grouping: entries, by: { $0.at }) {
                _ = try store.unsubscribe(group.map { ($0.campaign, $0.message) }, now: time)
            }
            journal.clear()
        } catch {
            queue.asyncAfter(deadline: .now() + 1) { self.replay() }
        }
    }

    /// Whether the message exists (and its address is now suppressed).
    func unsubscribe(campaign: Int64, message: Int64) async throws -> Bool {
        try await withCheckedThrowingContinuation { done in
            lock.lock()
            pending.append((campaign, message, done))
            let start = !writing
            writing = true
            lock.unlock()
            if start { queue.async { self.drain() } }
        }
    }

    /// Writes batches until nothing is pending.
    private func drain() {
        while true {
            lock.lock()
            let batch = pending
            pending = []
            if batch.isEmpty { writing = false }
            lock.unlock()
            if batch.isEmpty { return }
            let now = Date().timeIntervalSince1970
            let requests = batch.map { ($0.campaign, $0.message) }
            do {
                let found = try store.unsubscribe(requests, now: now)
                for (request, exists) in zip(batch, found) { request.done.resume(returning: exists) }
            } catch let error as StoreError where error.kind == .locked {
                // The database is held by another process: durable in the journal now, in the database soon.
                do {
                    try journal.append(requests, at: now)
                    for request in batch { request.done.resume(returning: true) }
                    queue.asyncAfter(deadline: .now() + 1) { self.replay() }
                } catch {
                    for request in batch { request.done.resume(throwing: error) }
                }
            } catch {
                for request in batch { request.done.resume(throwing: error) }
            }
        }
    }
}
