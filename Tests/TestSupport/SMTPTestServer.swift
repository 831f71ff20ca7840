import Foundation

/// A real SMTP server (aiosmtpd, with the handler in scripts/smtp-test-server.py) on a
/// loopback port the system picks, recording every message it accepts. The recipient's
/// local part scripts its behaviour (see the script).
public final class SMTPTestServer: @unchecked Sendable {
    public let port: Int
    public let recordFile: URL
    private let process: Process
    private let directory: TemporaryDirectory
    /// Held open for the server's life: when this process dies, the server sees its stdin close and exits.
    private let lifeline = Pipe()

    public struct Received: Decodable, Sendable {
        public var mail_from: String
        public var rcpt_tos: [String]
        public var data: String
        public var reply: String
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    public init(arguments: [String] = []) throws {
        directory = try TemporaryDirectory()
        recordFile = directory.url.appendingPathComponent("received.jsonl")
        (process, port) = try LoopbackScript.start("smtp-test-server.py", ["--record", recordFile.path, "--exit-with-parent"] + arguments,
                                                    lifeline: lifeline, standardError: nil,
                                                    failure: "the SMTP test server did not start (is python3-aiosmtpd installed?)")
    }

    /// Every message accepted so far, in order.
    public func received() throws -> [Received] {
        try JSONLines.read(Received.self, from: recordFile.path)
    }

    public func stop() {
        if process.isRunning {
            // SIGKILL: a child spawned from a dispatch thread may have SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Paths inside this repository, found from this file's own location.
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the clone (as CI lays it out), or `$BROADSIDE_SHARED`.
    public static let shared: URL = ProcessInfo.processInfo.environment["BROADSIDE_SHARED"].map { URL(fileURLWithPath: $0) }
        ?? root.deletingLastPathComponent().appendingPathComponent("shared")
}

/// A folder of its own for one test, removed afterwards.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("broadside-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    @discardableResult
    public func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A self-signed certificate for 127.0.0.1, made with openssl for one test.
public struct SelfSignedCertificate: Sendable {
    public let certificate: String
    public let key: String

    public init(in directory: TemporaryDirectory) throws {
        certificate = directory.path("cert.pem")
        key = directory.path("key.pem")
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        guard result.status == 0 else { throw TestSupportError("openssl failed: \(result.stderr)") }
    }
}

/// A test server written in Python (scripts/…) that prints `PORT n` once it listens on a
/// loopback port, and exits when its standard input (the lifeline) closes.
enum LoopbackScript {
    static func start(_ script: String, _ arguments: [String], lifeline: Pipe, standardError: FileHandle?, failure: String) throws -> (Process, Int) {
        let output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Repository.root.appendingPathComponent("scripts/\(script)").path] + arguments
        process.standardOutput = output
        process.standardInput = lifeline
        process.standardError = standardError ?? FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            process.terminate()
            throw TestSupportError("\(failure): \(text)")
        }
        return (process, port)
    }
}
