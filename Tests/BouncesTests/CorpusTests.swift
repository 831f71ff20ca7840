import Foundation
import Testing
import TestSupport
@testable import Bounces

/// The parser over real bounce messages from many MTAs (../shared/corpus/bounces), against
/// the expected results, measured strictly: recipient found in at least 98% of rows, hard/soft
/// agreement at least 97% and reason agreement at least 90%, both counted only where the
/// row's own recipient was found.
@Suite("Bounce corpus")
struct CorpusTests {
    struct Expected {
        var file: String
        var index: Int
        var status: String
        var reason: String
        var hard: Bool
        var recipient: String
    }

    static let corpus = Repository.shared.appendingPathComponent("corpus/bounces")

    static func expected() throws -> [Expected] {
        let text = try String(contentsOf: corpus.appendingPathComponent("expected.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 7, let index = Int(f[1]) else { return nil }
            return Expected(file: f[0], index: index, status: f[2], reason: f[4], hard: f[5] == "true", recipient: f[6].lowercased())
        }
    }

    /// The corpus lies beside CI's clone, not in the repository: a user's clone skips this test.
    static var corpusIsThere: Bool {
        let there = FileManager.default.fileExists(atPath: corpus.appendingPathComponent("expected.tsv").path)
        if !there { print("Bounce corpus: skipped, \(corpus.path) is absent (it lies beside CI's clone, not in the repository)") }
        return there
    }

    @Test(.enabled(if: corpusIsThere, "the bounce corpus (../shared/corpus/bounces) is absent in this clone"))
    func agreesWithTheExpectedResults() throws {
        let expected = try Self.expected()
        var parsed: [String: [BounceReport]] = [:]
        for file in Set(expected.map(\.file)) {
            let data = Array(try Data(contentsOf: Self.corpus.appendingPathComponent("eml/\(file)")))
            parsed[file] = Mbox.split(data).flatMap(BounceParser.parse)
        }
        // Strict: a row is matched only by a report of its own recipient (the k-th row naming an
        // address takes the k-th report naming it); hard/soft and reason count only for matched
        // rows, so a report that is missing is a miss three times over, never an agreement.
        var recipientFound = 0, hardAgrees = 0, reasonAgrees = 0
        var misses: [String] = []
        var used: [String: Int] = [:]
        for row in expected {
            let key = row.file + "\u{0}" + row.recipient
            let occurrence = used[key, default: 0]
            used[key] = occurrence + 1
            let same = (parsed[row.file] ?? []).filter { $0.recipient == row.recipient }
            guard occurrence < same.count else {
                let got = (parsed[row.file] ?? []).map { $0.recipient ?? "-" }.joined(separator: ", ")
                misses.append("MISSING \(row.file)#\(row.index): \(row.recipient) (\(row.reason)) not found; reports: [\(got)]")
                continue
            }
            let report = same[occurrence]
            recipientFound += 1
            if report.hard == row.hard { hardAgrees += 1 } else {
                misses.append("HARD \(row.file)#\(row.index): expected hard=\(row.hard) (\(row.reason)) got \(report.reason.rawValue) [\(report.status ?? "-")] kind=\(report.kind.rawValue)")
            }
            if report.reason.rawValue == row.reason { reasonAgrees += 1 } else {
                misses.append("\(row.file)#\(row.index): expected \(row.reason) got \(report.reason.rawValue) [\(report.status ?? "-")] \(report.diagnostic?.prefix(110) ?? "")")
            }
        }
        let total = Double(expected.count)
        let figures = String(format: "bounce corpus, %d rows: recipient %.1f%%, hard/soft %.1f%%, reason %.1f%%",
                             expected.count, Double(recipientFound) * 100 / total, Double(hardAgrees) * 100 / total, Double(reasonAgrees) * 100 / total)
        print(figures)
        if ProcessInfo.processInfo.environment["BOUNCE_MISSES"] != nil { misses.forEach { print($0) } }
        #expect(Double(recipientFound) / total >= 0.98, "\(figures)")
        #expect(Double(hardAgrees) / total >= 0.97, "\(figures)")
        #expect(Double(reasonAgrees) / total >= 0.90, "\(figures)")
    }
}
