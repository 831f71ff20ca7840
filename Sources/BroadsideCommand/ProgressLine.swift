import Foundation

/// The one line long work keeps up to date on a terminal: how far, how fast, how long
/// still. Nothing is shown with `--json` or when standard error is not a terminal (a pipe,
/// a log file, cron).
struct ProgressLine {
    let shown: Bool
    private let started = Date()

    init(json: Bool) {
        shown = !json && Output.stderrIsTerminal
    }

    /// `what` (the counts), the rate of `done` units a second, and the time left with
    /// `fraction` (0 to 1) of the work done, or `instead` of it.
    func show(_ what: String, done: Int, unit: String, fraction: Double, instead: String? = nil) {
        guard shown else { return }
        let elapsed = Date().timeIntervalSince(started)
        let rate = Int(Double(done) / max(elapsed, 0.001))
        write("\r\u{1B}[2K  \(what)  \(rate) \(unit)/s  \(instead ?? Self.eta(elapsed: elapsed, done: fraction))")
    }

    /// Takes the line away (before the summary is printed).
    func clear() {
        if shown { write("\r\u{1B}[2K") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

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
