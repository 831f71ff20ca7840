/// A sending rate such as `10/s`, `600/min` or `2000/day`.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    /// The window, in seconds.
    public var period: Double
    /// How many messages may go at once after a quiet spell.
    public var burst: Int

    public init(count: Int, period: Double, burst: Int = 1) {
        self.count = count
        self.period = period
        self.burst = max(1, burst)
    }

    /// Parses `N/s`, `N/sec`, `N/min`, `N/h`, `N/hour`, `N/day` (also `N/d`).
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "/")
        guard parts.count == 2, let count = Int(parts[0].filter { $0 != "_" && $0 != "," }), count > 0 else { return nil }
        let periods: [String: Double] = ["s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
                                         "h": 3600, "hour": 3600, "d": 86_400, "day": 86_400]
        guard let period = periods[String(parts[1])] else { return nil }
        self.init(count: count, period: period)
    }

    public var description: String {
        let unit = [1.0: "s", 60: "min", 3600: "hour", 86_400: "day"][period] ?? "\(period)s"
        return "\(count)/\(unit)"
    }

    /// Seconds between two messages at this rate.
    public var interval: Double { period / Double(count) }
}

/// The generic cell rate algorithm: a token bucket written as one timestamp. Pure:
/// the caller brings the time and does the waiting.
public struct GCRA: Sendable {
    public let limit: RateLimit
    /// The theoretical arrival time of the next message.
    private var theoreticalArrival: Double = 0

    public init(_ limit: RateLimit) {
        self.limit = limit
    }

    /// Reserves the next slot; returns how long to wait before sending (0: now).
    public mutating func reserve(now: Double) -> Double {
        let tolerance = limit.interval * Double(limit.burst - 1)
        let start = max(now, theoreticalArrival - tolerance)
        theoreticalArrival = max(theoreticalArrival, now) + limit.interval
        return start - now
    }
}
