import Foundation
import GRDB

/// Copies an import's committed pages from the WAL into the database file on a connection
/// and thread of its own, while the import writes its next rows. With SQLite's automatic
/// checkpoints that copy ran on the writing thread, the import's bottleneck, at a sixth of
/// its time; here it runs on the other core.
///
/// The WAL stays short: once it holds more than `walLimit` pages, the writer waits after a
/// commit until the copy has caught up, so that its next transaction starts the WAL again
/// from the beginning. Like SQLite's own automatic checkpoint this one is passive: a reader
/// in another process that still needs old pages is never waited for (the WAL then grows
/// until it is done, as it would have anyway).
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let walLimit: Int
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var commits = 0
    private var checkpointedCommits = 0
    private var walPages = 0
    private var stopped = false
    private var running = false

    /// Opens a second connection to the database at `path`.
    init(path: String, walLimit: Int = 8192) throws {
        var configuration = Configuration()
        configuration.label = "import checkpoints"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.walLimit = walLimit
    }

    func start() {
        condition.withLock { running = true }
        let thread = Thread { [self] in run() }
        thread.name = "broadside-checkpoints"
        thread.start()
    }

    /// Says that the writer committed; waits for the copy to catch up when the WAL is long.
    /// False once the helper has stepped aside: the writer then checkpoints as SQLite does.
    func committed() -> Bool {
        condition.withLock {
            commits += 1
            condition.broadcast()
            if walPages > walLimit {
                while running, checkpointedCommits < commits { condition.wait() }
            }
            return running
        }
    }

    /// Stops the thread after its current checkpoint (what is left is copied by SQLite's
    /// automatic checkpoint at the writer's next commit).
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
            while running { condition.wait() }
        }
    }

    private func run() {
        defer {
            condition.withLock {
                running = false
                condition.broadcast()
            }
        }
        while true {
            let target: Int? = condition.withLock {
                while !stopped, checkpointedCommits == commits { condition.wait() }
                return stopped ? nil : commits
            }
            guard let target else { return }
            // A failed or busy checkpoint loses nothing (the pages stay in the WAL); this
            // helper then steps aside and leaves the copying to SQLite's own checkpoints.
            guard let result = try? connection.writeWithoutTransaction({ try $0.checkpoint(.passive) }) else { return }
            condition.withLock {
                walPages = result.walFrameCount
                checkpointedCommits = target
                condition.broadcast()
            }
        }
    }
}
