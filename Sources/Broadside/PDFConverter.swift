import Engine
import Foundation

/// Documents to PDF through LibreOffice, as many processes as cores, each with a profile of
/// its own. Documents that come a few at a time (a campaign's batches) go to long-lived
/// processes (`OfficeWorker`), started on first use and fed one document after another for
/// as long as the converter lives: no start to pay per batch. A large set at once (`merge
/// --pdf` of hundreds) goes to LibreOffice's own batch conversion, one process per core for
/// its whole share, which is quicker per document (about 25 ms against 40 ms through UNO)
/// once the start is paid. Either way a process that crashes or hangs is stopped and its
/// documents without a PDF are tried once more in a new one.
public final class PDFConverter: @unchecked Sendable {
    public let processes: Int
    /// How long one document may take before its process counts as hung.
    public var secondsPerDocument: Double = 120
    public let office: String
    /// One worker a slot, started when first needed; each slot is used by one thread at a time.
    private var workers: [OfficeWorker?]

    public init(processes: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        // BROADSIDE_SOFFICE names LibreOffice where it is installed elsewhere (/opt/libreoffice…).
        let candidates = [ProcessInfo.processInfo.environment["BROADSIDE_SOFFICE"]].compactMap { $0 }
            + ["/usr/bin/soffice", "/usr/bin/libreoffice", "/usr/lib/libreoffice/program/soffice"]
        guard let office = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BroadsideError.environment("PDF needs LibreOffice: install it (Debian: apt-get install libreoffice-writer-nogui python3-uno), or attach the document as it is")
        }
        guard Self.unoIsThere else {
            throw BroadsideError.environment("PDF needs LibreOffice's Python bridge: install it (Debian: apt-get install python3-uno)")
        }
        self.office = office
        self.processes = max(1, processes)
        workers = Array(repeating: nil, count: self.processes)
    }

    /// The workers drive LibreOffice through Debian's python3-uno (checked once a run).
    private static let unoIsThere: Bool = {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        check.arguments = ["-c", "import uno"]
        check.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        check.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }()

    deinit {
        for worker in workers { worker?.stop() }
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
        if documents.count >= Self.largeShare * processes { return convertInBulk(documents, into: folder) }
        let slots = min(processes, documents.count)
        let failures = Locked<[String: String]>([:])
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: slots) { slot in
            for document in stride(from: slot, to: documents.count, by: slots).map({ documents[$0] }) {
                let target = Self.pdf(for: document, in: folder)
                var why: String?
                for _ in 0..<2 {
                    lock.lock()
                    var worker = workers[slot]
                    lock.unlock()
                    if worker?.isAlive != true {
                        do {
                            worker = try OfficeWorker(office: office)
                        } catch {
                            why = "\(error)"
                            break
                        }
                        lock.lock()
                        workers[slot] = worker
                        lock.unlock()
                    }
                    why = worker?.convert(document, to: target, timeout: secondsPerDocument)
                    if why == nil, Self.isComplete(target) { break }
                    why = why ?? "LibreOffice made no complete PDF of it"
                    // Tried once more only when the process crashed or hung (it was replaced).
                    if worker?.isAlive == true { break }
                }
                if let why, !Self.isComplete(target) {
                    failures.withLock { $0[document] = why }
                }
            }
        }
        return failures.withLock { $0 }
    }

    /// Documents a process from which LibreOffice's own batch conversion is the quicker way.
    static let largeShare = 100

    /// One `soffice --convert-to pdf` a process for its whole share; what it left without a
    /// complete PDF (it crashed or hung) is tried once more in a new process.
    private func convertInBulk(_ documents: [String], into folder: String) -> [String: String] {
        let failures = Locked<[String: String]>([:])
        DispatchQueue.concurrentPerform(iterations: processes) { slot in
            var pending = stride(from: slot, to: documents.count, by: processes).map { documents[$0] }
            var why = ""
            for _ in 0..<2 where !pending.isEmpty {
                why = convertBatch(pending, into: folder)
                pending = pending.filter { !Self.isComplete(Self.pdf(for: $0, in: folder)) }
            }
            failures.withLock { all in for document in pending { all[document] = why.isEmpty ? "LibreOffice made no PDF of it" : why } }
        }
        return failures.withLock { $0 }
    }

    /// One soffice process for a batch; "" when it ended by itself, else why it was stopped.
    private func convertBatch(_ documents: [String], into folder: String) -> String {
        let profile: URL, lock: Int32
        do { (profile, lock) = try LibreOfficeProfile.acquire() } catch { return "\(error)" }
        defer { close(lock) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: office)
        process.arguments = ["-env:UserInstallation=\(profile.absoluteString)", "--headless", "--norestore", "--nolockcheck",
                             "--convert-to", "pdf", "--outdir", folder] + documents
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch { return "LibreOffice did not start: \(error.localizedDescription)" }
        let limit = secondsPerDocument + 10 * Double(documents.count)
        if finished.wait(timeout: .now() + limit) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
            return "LibreOffice took longer than \(Int(limit)) s and was stopped"
        }
        if process.terminationReason == .uncaughtSignal { return "LibreOffice crashed (signal \(process.terminationStatus))" }
        return ""
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

    /// Where the profiles live from run to run (a new one costs LibreOffice several seconds).
    static func profileBase() -> URL {
        let base = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("broadside", isDirectory: true)
    }
}
