import Foundation

/// Runs the built `broadside` command (or any program) and captures what it printed.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum Command {
    /// The `broadside` executable built beside the test bundle (`swift build --build-tests`
    /// and `swift test` build it with the tests). There is no fallback to another build,
    /// which could be older than the code under test: a missing one stops the run with what to do.
    public static let broadside: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("broadside")
        guard FileManager.default.isExecutableFile(atPath: beside.path) else {
            fatalError("\(beside.path) is missing: build it with the tests (swift build --build-tests, or make test)")
        }
        return beside
    }()

    /// `broadside ARGS` as a test's set-up step: anything but exit 0 throws with what it
    /// printed, so that a set-up that failed never passes for the behaviour under test.
    @discardableResult
    public static func broadsideSucceeding(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        let result = try broadside(arguments, environment: environment)
        guard result.status == 0 else {
            throw TestSupportError("broadside \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)")
        }
        return result
    }

    /// `broadside ARGS` started in the background, for a test to signal, kill or wait for.
    /// Standard error is dropped; standard output is kept only when asked (a pipe nobody
    /// reads would block a chatty process).
    public static func startBroadside(_ arguments: [String], capturingOutput: Bool = false, environment: [String: String] = [:]) throws -> Background {
        let process = Process()
        process.executableURL = broadside
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = capturingOutput ? Pipe() : nil
        process.standardOutput = output ?? FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return Background(process: process, output: output)
    }

    /// `broadside ARGS` on a pseudo-terminal (util-linux's `script`), as a person runs it:
    /// what it printed to either stream comes back as `stdout`.
    public static func broadsideOnATerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        let command = ([broadside.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try run(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"], environment: environment)
    }

    /// Runs `broadside ARGS` in `directory` with `environment` added.
    public static func broadside(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        try run(broadside, arguments, in: directory, environment: environment)
    }

    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                           input: Data? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = Pipe()
        process.standardInput = inputPipe
        try process.run()
        if let input { inputPipe.fileHandleForWriting.write(input) }
        try? inputPipe.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a chatty process never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A command running in the background (see `Command.startBroadside`).
public struct Background {
    public let process: Process
    let output: Pipe?

    public var isRunning: Bool { process.isRunning }

    public func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for it to end; its exit status.
    @discardableResult
    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// What it printed on standard output, read to its end (call before `wait`).
    public func readOutput() -> String {
        guard let output else { return "" }
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

extension Command {
    /// `broadside ARGS`, with each line it writes to standard error handed to `onLine` as it
    /// comes (a test answers what the command asks of a person: a code to enter, an address
    /// to open), then waits for it to end.
    public static func broadside(_ arguments: [String], environment: [String: String] = [:],
                                 onErrorLine: @escaping @Sendable (String) -> Void) throws -> CommandResult {
        let process = Process()
        process.executableURL = broadside
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async {
            var pending = Data()
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                errData.append(chunk)
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    onErrorLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending = Data(pending[(newline + 1)...])
                }
            }
            group.leave()
        }
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
