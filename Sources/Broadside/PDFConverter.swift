import Foundation

/// Documents to PDF through LibreOffice: as many long-lived LibreOffice processes as
/// cores (`OfficeWorker`), each with a profile of its own, started on first use and fed
/// documents one after another for as long as the converter lives (a start costs about two
/// seconds; a warm process converts a letter in a fraction of one). A process that crashes
/// or hangs is stopped and replaced, and its document tried once more.
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
