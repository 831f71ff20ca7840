import Foundation

/// Documents to PDF through LibreOffice (`soffice --headless`), several processes side by
/// side, each with a profile of its own and fed a batch of documents, never one process a
/// document (a start costs about two seconds). A process that crashes or hangs is killed;
/// the documents of its batch that have no PDF yet are tried once more in a new one.
public struct PDFConverter: Sendable {
    public let processes: Int
    /// A batch may take this long, plus `secondsPerDocument` for each document in it.
    public var baseTimeout: Double = 90
    public var secondsPerDocument: Double = 10
    public let office: String

    public init(processes: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        // BROADSIDE_SOFFICE names LibreOffice where it is installed elsewhere (/opt/libreoffice…).
        let candidates = [ProcessInfo.processInfo.environment["BROADSIDE_SOFFICE"]].compactMap { $0 }
            + ["/usr/bin/soffice", "/usr/bin/libreoffice", "/usr/lib/libreoffice/program/soffice"]
        guard let office = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BroadsideError.environment("PDF needs LibreOffice: install it (Debian: apt-get install libreoffice-writer-nogui), or attach the document as it is")
        }
        self.office = office
        self.processes = max(1, processes)
    }

    /// The converter a template needs (it attaches a document as PDF), found now so that a
    /// machine without LibreOffice is refused before anything changes; nil when none is needed.
    public static func ifNeeded(for template: CampaignTemplate) throws -> PDFConverter? {
        PersonalMessage(template: template).attachesPDFs ? try PDFConverter() : nil
    }

    /// Converts `documents` into PDFs in `folder` (same base names); returns the documents
    /// that could not be converted, each with why.
    public func convert(_ documents: [String], into folder: String) -> [String: String] {
        guard !documents.isEmpty else { return [:] }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let batches = stride(from: 0, to: processes, by: 1).map { index in
            stride(from: index, to: documents.count, by: processes).map { documents[$0] }
        }.filter { !$0.isEmpty }
        let failures = Locked<[String: String]>([:])
        DispatchQueue.concurrentPerform(iterations: batches.count) { slot in
            var pending = batches[slot]
            var why = ""
            for attempt in 0..<2 where !pending.isEmpty {
                why = run(pending, into: folder, slot: slot, attempt: attempt)
                pending = pending.filter { !Self.isComplete(Self.pdf(for: $0, in: folder)) }
            }
            failures.withLock { all in for document in pending { all[document] = why.isEmpty ? "LibreOffice made no PDF of it" : why } }
        }
        return failures.withLock { $0 }
    }

    /// A PDF written to its end (`%%EOF` in its last bytes); one cut short by a crash is
    /// removed, so it is made again rather than attached half-written.
    static func isComplete(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 1024 ? size - 1024 : 0)
        let tail = (try? handle.readToEnd()) ?? Data()
        guard tail.range(of: Data("%%EOF".utf8)) != nil else {
            try? FileManager.default.removeItem(atPath: path)
            return false
        }
        return true
    }

    public static func pdf(for document: String, in folder: String) -> String {
        let base = ((document as NSString).lastPathComponent as NSString).deletingPathExtension
        return (folder as NSString).appendingPathComponent(base + ".pdf")
    }

    /// One soffice process for a batch; "" when it ended by itself, else why it was stopped.
    private func run(_ documents: [String], into folder: String, slot: Int, attempt: Int) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: office)
        process.arguments = ["-env:UserInstallation=\(Self.profile(slot).absoluteString)", "--headless", "--norestore", "--nolockcheck",
                             "--convert-to", "pdf", "--outdir", folder] + documents
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch { return "LibreOffice did not start: \(error.localizedDescription)" }
        let limit = baseTimeout + secondsPerDocument * Double(documents.count)
        if finished.wait(timeout: .now() + limit) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
            return "LibreOffice took longer than \(Int(limit)) s and was stopped"
        }
        if process.terminationReason == .uncaughtSignal { return "LibreOffice crashed (signal \(process.terminationStatus))" }
        return ""
    }

    /// A profile a slot keeps from run to run (a new one costs LibreOffice several seconds).
    static func profile(_ slot: Int) -> URL {
        let base = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("broadside/libreoffice-\(slot)", isDirectory: true)
    }
}
