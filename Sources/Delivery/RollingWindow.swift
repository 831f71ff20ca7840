/// An exact count over a rolling window (a day, an hour): at most `limit` sends in any
/// `period` seconds. Seeded with the send times already in the database, so that a
/// restart does not reset a daily cap. Pure: the caller brings the time.
public struct RollingWindow: Sendable {
    public let limit: RateLimit
    /// Send times within the window, oldest first.
    private var times: [Double]
    private var head = 0

    public init(_ limit: RateLimit, history: [Double] = []) {
        self.limit = limit
        self.times = history.sorted()
    }

    /// When the next send may go: `now` if there is room.
    public mutating func nextSlot(now: Double) -> Double {
        expire(before: now - limit.period)
        let inWindow = times.count - head
        guard inWindow >= limit.count else { return now }
        // The oldest send that must leave the window before there is room again.
        return times[head + inWindow - limit.count] + limit.period
    }

    public mutating func record(_ time: Double) {
        times.append(time)
    }

    private mutating func expire(before cutoff: Double) {
        while head < times.count && times[head] <= cutoff { head += 1 }
        if head > 1024 && head * 2 > times.count {
            times.removeFirst(head)
            head = 0
        }
    }
}

/// Every limit on one key (a profile, or a recipient domain): short windows as GCRA
/// (smooth), long ones as exact rolling windows.
public struct RateLimits: Sendable {
    private var smooth: [GCRA]
    private var rolling: [RollingWindow]

    /// Windows up to a minute are smoothed; longer ones are counted exactly.
    public static let smoothUpTo: Double = 60

    public init(_ limits: [RateLimit], history: [Double] = []) {
        smooth = limits.filter { $0.period <= Self.smoothUpTo }.map(GCRA.init)
        rolling = limits.filter { $0.period > Self.smoothUpTo }.map { RollingWindow($0, history: history) }
    }

    public var isEmpty: Bool { smooth.isEmpty && rolling.isEmpty }

    /// The longest window, whose history must be loaded.
    public static func longestPeriod(_ limits: [RateLimit]) -> Double {
        limits.filter { $0.period > smoothUpTo }.map(\.period).max() ?? 0
    }

    /// When a send may go under every rolling window (`now` if it may go at once).
    public mutating func nextRollingSlot(now: Double) -> Double {
        var slot = now
        for index in rolling.indices { slot = max(slot, rolling[index].nextSlot(now: now)) }
        return slot
    }

    /// Takes a slot: records it in the rolling windows, reserves it in the smooth ones.
    /// Returns how long to wait for the smooth ones. Call only when `nextRollingSlot` is `now`.
    public mutating func take(now: Double) -> Double {
        for index in rolling.indices { rolling[index].record(now) }
        var wait = 0.0
        for index in smooth.indices { wait = max(wait, smooth[index].reserve(now: now)) }
        return wait
    }
}
