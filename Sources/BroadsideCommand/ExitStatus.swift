import ArgumentParser
import Broadside
import Delivery
import Engine
import Foundation
import Store

/// Maps an error to the documented exit code, printing one line that says what to do.
enum ExitStatus {
    static let success: Int32 = 0
    static let workFailed: Int32 = 1
    static let badInput: Int32 = 2
    static let badEnvironment: Int32 = 3
    static let interrupted: Int32 = 130

    static func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as ExitCode:
            return error.rawValue
        case let error as BroadsideError:
            printError(error.message)
            return error.kind == .input ? badInput : badEnvironment
        case let error as StoreError:
            printError(error.message)
            return error.kind == .invalidRequest ? badInput : badEnvironment
        case let error as TransportError:
            printError(error.message)
            return badEnvironment
        case let error as EngineError:
            printError(error.message)
            return badEnvironment
        default:
            let code = BroadsideCLI.exitCode(for: error)
            // --help and --version arrive as errors with a success code: let the parser print them.
            if code == .success { BroadsideCLI.exit(withError: error) }
            let message = BroadsideCLI.fullMessage(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((message + "\n").utf8))
                return badInput
            }
            printError(message)
            return code.rawValue == 0 ? workFailed : code.rawValue
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("broadside: error: \(message)\n".utf8))
    }
}
