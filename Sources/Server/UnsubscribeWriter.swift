import Foundation
import Store

/// Writes one-click unsubscribes, folding the ones that arrive together into one SQLite
/// transaction: the database takes one writer at a time, so under load a transaction
/// per request would queue; batching keeps each request's wait to about one commit.
/// A request is answered only after its transaction has committed.
final class UnsubscribeWriter: @unchecked Sendable {
    private typealias Request = (campaign: Int64, message: Int64, done: CheckedContinuation<Bool, Error>)

    private let store: Store
    private let lock = NSLock()
    private var pending: [Request] = []
    private var writing = false
    private let queue = DispatchQueue(label: "broadside.unsubscribe-writer")

    init(store: Store) {
        self.store = store
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
            do {
                let found = try store.unsubscribe(batch.map { ($0.campaign, $0.message) }, now: Date().timeIntervalSince1970)
                for (request, exists) in zip(batch, found) { request.done.resume(returning: exists) }
            } catch {
                for request in batch { request.done.resume(throwing: error) }
            }
        }
    }
}
