import Addresses
import Store

/// The addresses suppressed while a send runs (an unsubscribe, a hard bounce), polled
/// from the database: a message claimed and rendered before its address was suppressed
/// is checked again right before it is handed to a connection.
final class SuppressionWatch: Sendable {
    private let store: Store
    private let seen: Locked<(last: Int64, addresses: Set<String>)>

    init(store: Store) throws {
        self.store = store
        seen = Locked((try store.lastSuppression(), []))
    }

    /// Takes in what was suppressed since the last look. A failed read is tried again at the next.
    func refresh() {
        let last = seen.withLock { $0.last }
        guard let (newest, addresses) = try? store.suppressions(after: last), !addresses.isEmpty else { return }
        seen.withLock { seen in
            seen.last = max(seen.last, newest)
            seen.addresses.formUnion(addresses)
        }
    }

    /// Whether `address` (an SMTP address) was suppressed during this run. Until something
    /// is, this costs one lock.
    func isSuppressed(_ address: String) -> Bool {
        guard seen.withLock({ !$0.addresses.isEmpty }), let normalized = try? EmailAddress(parsing: address).normalized else { return false }
        return seen.withLock { $0.addresses.contains(normalized) }
    }
}
