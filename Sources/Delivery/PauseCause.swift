/// Why the engine paused a campaign by itself. Each is a problem of the environment (the
/// database, the network, the server's view of the sender), never of the input, so each
/// ends `send` with exit 3; the wording is for people and decides nothing.
public enum PauseCause: Sendable, Equatable, CustomStringConvertible {
    /// Reading or claiming messages failed.
    case databaseFailed(String)
    /// No connection could be opened (libcurl could not even start one).
    case cannotConnect(String)
    /// The server could not be reached for `seconds`.
    case serverUnreachable(seconds: Int, detail: String)
    /// The server asks for a sign-in the profile does not give.
    case signInRequired(reply: String)
    /// The server refused the sender this many times in a row.
    case senderRefused(times: Int, last: String)
    /// This many messages in a row got no verdict after their end of DATA.
    case noVerdicts(count: Int, last: String)
    /// The copy for the Sent folder could not be kept (the disk): nothing goes without one.
    case sentCopyNotKept(String)
    /// TLS with the server failed (its certificate, or no STARTTLS): a setting to fix.
    case tlsRefused(String)
    /// Every relay of the campaign is left out: each one's name and reason.
    case noRelayLeft([String])

    public var description: String {
        switch self {
        case .databaseFailed(let error): return "the database failed: \(error)"
        case .cannotConnect(let error): return "cannot open a connection: \(error)"
        case .serverUnreachable(let seconds, let detail): return "the server has been unreachable for \(seconds) s: \(detail)"
        case .signInRequired(let reply):
            return "the server requires sign-in (\(reply)); give --user and --password-env or --password-command, then resume"
        case .senderRefused(let times, let last): return "the server refused the sender \(times) times in a row, last: \(last)"
        case .noVerdicts(let count, let last): return "the server gave no verdict on \(count) messages in a row after their end of DATA, last: \(last)"
        case .sentCopyNotKept(let error): return "the message's copy for the Sent folder could not be kept: \(error)"
        case .tlsRefused(let error): return error
        case .noRelayLeft(let relays): return "no relay is left: \(relays.joined(separator: "; "))"
        }
    }
}
