import Foundation

/// Postfix's `smtp-sink` (Debian's `postfix`) on a loopback port: accepts every message as
/// fast as it can and writes each to a file of its own in a folder, so that a test counts
/// what this server received and for whom.
public final class SMTPSink: @unchecked Sendable {
    public let port: Int
    private let process: Process
    private let directory: TemporaryDirectory
    private var folder: String { directory.path("received") }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// On `port` (a relay that comes up late), else on one the system picks.
    public init(port: Int? = nil) throws {
        directory = try TemporaryDirectory()
        // smtp-sink runs as nobody once it listens: the folder must let it write.
        try FileManager.default.createDirectory(atPath: directory.path("received"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.url.path)
        let port = try port ?? freeLoopbackPort()
        self.port = port
        guard let process = try startListening("/usr/sbin/smtp-sink", ["-u", "nobody", "-d", "\(directory.path("received"))/%H%M%S.",
                                                                       "127.0.0.1:\(port)", "256"], port: port) else {
            throw TestSupportError("smtp-sink did not listen on \(port) (is postfix installed?)")
        }
        self.process = process
    }

    /// The recipient (RCPT TO) of each message received so far.
    public func recipients() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).compactMap { name -> String? in
            guard let text = try? String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("X-Rcpt-Args: <") }) else { return nil }
            return String(line.dropFirst("X-Rcpt-Args: <".count).prefix { $0 != ">" })
        }
    }

    /// Kills it at once (SIGKILL), as a crashed relay.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
