import ArgumentParser
import Broadside
import Engine
import Foundation
import Logging
import Store

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The campaign database (default: $BROADSIDE_DB or ./broadside.sqlite).")
    var db: String?

    @Option(name: .long, help: "The configuration file (default: $BROADSIDE_CONFIG or ./broadside.yaml if present).")
    var config: String?

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["BROADSIDE_DB"] ?? "broadside.sqlite"
    }

    /// The configuration, or an empty one when there is no file (a named file must exist).
    func configuration() throws -> Configuration {
        if let path = config ?? ProcessInfo.processInfo.environment["BROADSIDE_CONFIG"] {
            return try Configuration.load(path: path)
        }
        return FileManager.default.fileExists(atPath: "broadside.yaml") ? try Configuration.load(path: "broadside.yaml") : Configuration()
    }

    func openStore() throws -> Store {
        try Store(path: databasePath)
    }

    /// For commands that only read: never creates a database, and works on a read-only file.
    func openStoreForReading() throws -> Store {
        try Store(readingExisting: databasePath)
    }
}

/// The secret that signs return paths and unsubscribe links: from the environment only.
enum Secret {
    static let variable = "BROADSIDE_SECRET"

    static var optional: String? {
        ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func required() throws -> String {
        guard let secret = optional else {
            throw BroadsideError.input("\(variable) is not set; export a long random secret there (it signs return paths and unsubscribe links, and is never stored)")
        }
        return secret
    }
}

enum Output {
    /// Prints exactly one JSON object on standard output.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Progress and notes go to standard error. They may quote a server or a file: control
    /// characters are shown escaped, line by line.
    static func note(_ text: String) {
        let shown = text.split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.inert(String($0)) }.joined(separator: "\n")
        FileHandle.standardError.write(Data((shown + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Colour only on a terminal, and never with NO_COLOR set.
    static var colour: Bool { stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    static func now() -> Double { Date().timeIntervalSince1970 }
}

/// A logger on standard error; BROADSIDE_LOG_LEVEL=debug for more.
func makeLogger(_ label: String, quiet: Bool) -> Logger {
    var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
    if let level = ProcessInfo.processInfo.environment["BROADSIDE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) {
        logger.logLevel = level
    } else {
        logger.logLevel = quiet ? .error : .warning
    }
    return logger
}

/// Who signs in, and where the password comes from: an environment variable or a
/// command, never a file, the database or a log.
struct SignInOptions: ParsableArguments {
    @Option(help: "The user to sign in as.") var user: String?
    @Option(name: .customLong("password-env"), help: "The environment variable holding the password (never stored).") var passwordEnv: String?
    @Option(name: .customLong("password-command"), help: "A command that prints the password.") var passwordCommand: String?

    /// A password given here replaces the stored way to get it (a variable given here wins over a stored command).
    var givesPassword: Bool { passwordEnv != nil || passwordCommand != nil }
}
