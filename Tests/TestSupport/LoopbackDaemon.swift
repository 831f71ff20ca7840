import Foundation

/// Starts a server program (Dovecot, smtp-sink) with its output discarded and waits until
/// it listens on `port`; if it never does within `seconds`, kills it and returns nil.
func startListening(_ executable: String, _ arguments: [String], port: Int, within seconds: Double = 5) throws -> Process? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if canConnect(port: port) { return process }
        Thread.sleep(forTimeInterval: 0.05)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    return nil
}
