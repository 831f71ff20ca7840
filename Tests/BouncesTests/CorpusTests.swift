import Foundation
import Testing
import TestSupport
@testable import Bounces

/// The parser over real bounce messages from many MTAs (../shared/corpus/bounces), against
/// the expected results: recipient found in at least 95% of rows, hard/soft agreement at
/// least 95%, reason agreement at least 85%.
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
        var recipientFound = 0, hardAgrees = 0, reasonAgrees = 0
        var misses: [String] = []
        for row in expected {
            let reports = parsed[row.file] ?? []
            let report = reports.first { $0.recipient == row.recipient } ?? (row.index <= reports.count ? reports[row.index - 1] : nil)
            if report?.recipient == row.recipient { recipientFound += 1 }
            if (report?.hard ?? false) == row.hard { hardAgrees += 1 } else {
                misses.append("HARD \(row.file)#\(row.index): expected hard=\(row.hard) (\(row.reason)) got \(report?.reason.rawValue ?? "nothing") [\(report?.status ?? "-")] kind=\(report?.kind.rawValue ?? "-")")
            }
            if report?.reason.rawValue == row.reason { reasonAgrees += 1 } else {
                misses.append("\(row.file)#\(row.index): expected \(row.reason) got \(report?.reason.rawValue ?? "nothing") [\(report?.status ?? "-")] \(report?.diagnostic?.prefix(110) ?? "")")
            }
        }
        let total = Double(expected.count)
        let figures = String(format: "bounce corpus, %d rows: recipient %.1f%%, hard/soft %.1f%%, reason %.1f%%",
                             expected.count, Double(recipientFound) * 100 / total, Double(hardAgrees) * 100 / total, Double(reasonAgrees) * 100 / total)
        print(figures)
        if ProcessInfo.processInfo.environment["BOUNCE_MISSES"] != nil { misses.forEach { print($0) } }
        #expect(Double(recipientFound) / total >= 0.95, "\(figures)")
        #expect(Double(hardAgrees) / total >= 0.95, "\(figures)")
        #expect(Double(reasonAgrees) / total >= 0.85, "\(figures)")
    }
}
