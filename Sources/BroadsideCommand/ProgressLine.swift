/// What long work shows on a terminal beside its counts and rate.
enum ProgressLine {
    /// "ETA m:ss" (or "h:mm:ss") when `done` (0 to 1) of the work took `elapsed` seconds,
    /// at the rate so far; "ETA –" until there is a rate.
    static func eta(elapsed: Double, done: Double) -> String {
        guard done > 0, elapsed > 0 else { return "ETA –" }
        let left = Int((elapsed * (1 - min(done, 1)) / done).rounded())
        return left >= 3600
            ? "ETA \(left / 3600):\(two(left / 60 % 60)):\(two(left % 60))"
            : "ETA \(left / 60):\(two(left % 60))"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
