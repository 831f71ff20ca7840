import Engine
import Foundation

/// A LibreOffice profile of this process's own: kept from run to run in the cache folder (a
/// new one costs LibreOffice several seconds), held by a lock file while in use so that two
/// LibreOffices never share one.
enum LibreOfficeProfile {
    /// The profile's URL and the lock's descriptor (closing it releases the profile).
    static func acquire() throws -> (profile: URL, lock: Int32) {
        let base = PDFConverter.profileBase()
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        for slot in 0..<64 {
            let fd = open(base.appendingPathComponent("libreoffice-\(slot).lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 {
                return (base.appendingPathComponent("libreoffice-\(slot)", isDirectory: true), fd)
            }
            if fd >= 0 { close(fd) }
        }
        throw BroadsideError.environment("no free LibreOffice profile in \(base.path) (64 in use)")
    }
}

/// One long-lived LibreOffice, driven over UNO by a small Python program (Debian's
/// python3-uno): started once, then fed one document after another for as long as the
/// converter lives, so a campaign pays LibreOffice's start (about two seconds) once per
/// process, not once per batch. Each has a profile of its own, held by a lock file so that
/// two runs of Broadside never share one.
final class OfficeWorker {
    private let process = Process()
    private let input: FileHandle
    private let lines = Locked<[String]>([])
    private let arrived = DispatchSemaphore(value: 0)
    private var officePID: Int32 = 0
    private let profileLock: Int32
    private(set) var isAlive = true

    /// Starts LibreOffice and waits (up to `startTimeout`) until it answers.
    init(office: String, startTimeout: Double = 120) throws {
        let (profile, lock) = try LibreOfficeProfile.acquire()
        profileLock = lock
        let stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.program, office, profile.absoluteString, "broadside-\(getpid())-\(UUID().uuidString)"]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        input = stdin.fileHandleForWriting
        do { try process.run() } catch {
            close(lock)
            throw BroadsideError.environment("cannot start the LibreOffice worker: \(error.localizedDescription)")
        }
        let reader = stdout.fileHandleForReading
        let thread = Thread { [lines, arrived] in
            var buffer = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    lines.withLock { $0.append(line) }
                    arrived.signal()
                }
            }
            lines.withLock { $0.append("") }      // the end: the worker is gone
            arrived.signal()
        }
        thread.name = "broadside-office-reader"
        thread.start()
        let first = next(timeout: startTimeout)
        guard let first, first.hasPrefix("ready ") else {
            stop(force: true)
            throw BroadsideError.environment("LibreOffice did not start\(first.map { $0.hasPrefix("failed ") ? ": " + $0.dropFirst(7) : "" } ?? " in time")")
        }
        officePID = Int32(first.dropFirst(6)) ?? 0
    }

    /// The next line the worker printed; nil if none came in time; "" if it is gone.
    private func next(timeout: Double) -> String? {
        guard arrived.wait(timeout: .now() + timeout) == .success else { return nil }
        return lines.withLock { $0.isEmpty ? "" : $0.removeFirst() }
    }

    /// Converts one document; nil when done, else why not (the worker is then stopped when
    /// it crashed or hung, and must be replaced).
    func convert(_ source: String, to target: String, timeout: Double) -> String? {
        guard isAlive else { return "LibreOffice is not running" }
        do {
            try input.write(contentsOf: Data("\(source)\t\(target)\n".utf8))
        } catch {
            stop(force: true)
            return "LibreOffice crashed"
        }
        switch next(timeout: timeout) {
        case "ok"?: return nil
        case let line? where line.hasPrefix("error "): return String(line.dropFirst(6))
        case ""?:
            stop(force: true)
            return "LibreOffice crashed"
        default:
            stop(force: true)
            return "LibreOffice took longer than \(Int(timeout)) s and was stopped"
        }
    }

    /// Ends LibreOffice: politely (the worker closes it when its input ends), or at once.
    func stop(force: Bool = false) {
        guard isAlive else { return }
        isAlive = false
        try? input.close()
        if force || !waitForExit(seconds: 30) {
            if officePID > 0 { kill(officePID, SIGKILL) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        close(profileLock)
    }

    private func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }

    deinit { stop() }

    /// Starts soffice listening on a pipe, connects over UNO, says "ready PID", then reads
    /// "SOURCE<TAB>TARGET" lines and answers "ok" or "error WHY" for each.
    static let program = #"""
import subprocess, sys, time
import uno
from com.sun.star.beans import PropertyValue

def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p

office, profile, pipe = sys.argv[1], sys.argv[2], sys.argv[3]
soffice = subprocess.Popen([office, "-env:UserInstallation=" + profile, "--headless", "--invisible", "--norestore", "--nologo",
                            "--nodefault", "--nolockcheck", "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
deadline = time.time() + 110
while True:
    try:
        context = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
        break
    except Exception:
        if soffice.poll() is not None:
            print("failed LibreOffice exited at once (status %s)" % soffice.returncode, flush=True); sys.exit(1)
        if time.time() > deadline:
            soffice.kill(); print("failed LibreOffice did not answer", flush=True); sys.exit(1)
        time.sleep(0.1)
desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
print("ready %d" % soffice.pid, flush=True)
for line in sys.stdin:
    source, target = line.rstrip("\n").split("\t")
    try:
        # Read-only, no link updates, no macros: what a conversion needs, and quicker to load.
        document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0,
                                                (prop("Hidden", True), prop("ReadOnly", True), prop("UpdateDocMode", 0), prop("MacroExecutionMode", 0)))
        if document is None:
            raise RuntimeError("LibreOffice could not open it")
        try:
            document.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", "writer_pdf_Export"),))
        finally:
            document.close(True)
        print("ok", flush=True)
    except Exception as error:
        if soffice.poll() is not None:
            sys.exit(1)
        print("error " + str(error).replace("\n", " ")[:300], flush=True)
try:
    desktop.terminate()
except Exception:
    pass
try:
    soffice.wait(timeout=30)
except Exception:
    soffice.kill()
"""#
}
