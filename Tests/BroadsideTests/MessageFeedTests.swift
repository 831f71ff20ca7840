import Foundation
import Testing
@testable import Engine

/// The feed between the producer and the connections: when it closes while a batch is
/// being put, every item ends up in exactly one place, either still in the feed (a
/// connection takes it and puts it back in the queue) or handed back to the producer,
/// never both (each is released to the queue once).
@Suite("Message feed")
struct MessageFeedTests {
    @Test func aBatchCutShortByCloseIsSplitNeverDoubled() throws {
        let feed = MessageFeed<Int>(capacity: 2)
        let leftover = Locked<[Int]?>(nil)
        let done = DispatchSemaphore(value: 0)
        let producer = Thread {
            leftover.withLock { $0 = feed.put(Array(1...6)) }
            done.signal()
        }
        producer.start()
        // The feed holds two; the producer waits for room with four to go.
        var taken: [Int] = []
        for _ in 0..<2 { if let item = feed.take() { taken.append(item) } }
        Thread.sleep(forTimeInterval: 0.2)
        feed.close()
        #expect(done.wait(timeout: .now() + 5) == .success)
        while let item = feed.take() { taken.append(item) }
        let back = try #require(leftover.withLock { $0 })
        #expect(!back.isEmpty, "the close cut the batch short")
        #expect(Set(taken).isDisjoint(with: back), "taken \(taken), handed back \(back)")
        #expect((taken + back).sorted() == Array(1...6))
    }

    @Test func aBatchPutWholeHandsNothingBack() {
        let feed = MessageFeed<Int>(capacity: 8)
        #expect(feed.put([1, 2, 3]).isEmpty)
        feed.close()
        var taken: [Int] = []
        while let item = feed.take() { taken.append(item) }
        #expect(taken == [1, 2, 3])
        #expect(feed.put([4]) == [4])
    }
}
