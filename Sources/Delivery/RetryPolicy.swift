/// When a deferred message is tried again: exponential backoff with jitter, and
/// when to give up. Defaults: 5 minutes doubling to 2 hours, for 3 days.
public struct RetryPolicy: Sendable, Equatable {
    public var firstDelay: Double
    public var maximumDelay: Double
    /// How long after the first attempt a message may still be retried.
    public var giveUpAfter: Double
    /// Spread of the delay, as a fraction (0.2: ±20%), so retries do not arrive in step.
    public var jitter: Double

    public init(firstDelay: Double = 300, maximumDelay: Double = 7_200, giveUpAfter: Double = 259_200, jitter: Double = 0.2) {
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.giveUpAfter = giveUpAfter
        self.jitter = jitter
    }

    /// The delay before attempt `attempts + 1`, after `attempts` failed ones; `random` is in 0..<1.
    public func delay(afterAttempts attempts: Int, random: Double) -> Double {
        var delay = firstDelay
        for _ in 1..<max(1, attempts) where delay < maximumDelay { delay *= 2 }
        delay = min(delay, maximumDelay)
        return max(0, delay * (1 + jitter * (2 * random - 1)))
    }

    /// Whether a message first tried at `firstAttempt` is out of time at `now`.
    public func hasExpired(firstAttempt: Double, now: Double) -> Bool {
        now - firstAttempt >= giveUpAfter
    }
}
