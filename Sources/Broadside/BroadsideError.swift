/// An error a user can act on: one sentence that says where and what to do, and
/// whether the input or the environment is at fault (the exit code follows from it).
public struct BroadsideError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The input or the command line is wrong; nothing was done (exit 2).
        case input
        /// The environment is wrong: server unreachable, sign-in refused, database locked (exit 3).
        case environment
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func input(_ message: String) -> BroadsideError { BroadsideError(.input, message) }
    public static func environment(_ message: String) -> BroadsideError { BroadsideError(.environment, message) }
}
