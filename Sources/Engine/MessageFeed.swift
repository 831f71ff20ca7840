import Foundation

/// A bounded, blocking queue between the thread that claims and renders messages and
/// the connection threads that send them. Bounded so that memory does not grow with
/// the list; closing it wakes every waiter. Waking is targeted: one item wakes one
/// taker, and a taker wakes the producer only when it waits for room and the feed is
/// half empty; with eight connections on two cores a wake-up per item costs more than
/// the sending.
package final class MessageFeed<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Taken slots are set to nil at once, so that nothing taken stays alive here.
    private var items: [Item?] = []
    private var head = 0
    private var closed = false
    private var takersWaiting = 0
    private var putterWaiting = false
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds items, waiting while the feed is full. Returns those it did not add because the
    /// feed was closed meanwhile (empty when all went in): each item is then either in the
    /// feed or back with the caller, never both, so nothing is released twice.
    @discardableResult
    package func put(_ newItems: [Item]) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        for (index, item) in newItems.enumerated() {
            while items.count - head >= capacity && !closed {
                putterWaiting = true
                condition.wait()
                putterWaiting = false
            }
            if closed { return Array(newItems[index...]) }
            items.append(item)
            if takersWaiting > 0 { condition.signal() }
        }
        return []
    }

    /// The next item, waiting while the feed is empty; nil once it is closed and empty.
    package func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed {
            takersWaiting += 1
            condition.wait()
            takersWaiting -= 1
        }
        guard head < items.count else { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        // The producer waits for room: wake it once the feed is half empty, not for every
        // item taken (a wake-up a message). A signal might reach a taker instead, so wake all.
        if putterWaiting && (items.count - head) * 2 <= capacity { condition.broadcast() }
        return item
    }

    /// Takes every item waiting in the feed at once (their relay left rotation: they go back
    /// to the caller), and wakes a producer waiting for room.
    package func drain() -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        let waiting = items[head...].compactMap { $0 }
        items.removeAll(keepingCapacity: true)
        head = 0
        if putterWaiting { condition.broadcast() }
        return waiting
    }

    /// No more items will come; those already in the feed can still be taken.
    package func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
