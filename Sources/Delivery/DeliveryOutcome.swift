/// What happened to one delivery attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The server took responsibility for the message (2xx after the end of DATA).
    case accepted(SMTPReply)
    /// Try again later: a 4xx reply, or the connection was lost before the end of DATA.
    case deferred(SMTPReply?, detail: String)
    /// A 5xx reply: this recipient will not get this message from this server.
    case failed(SMTPReply, detail: String)
    /// The connection was lost after the end of DATA: the message may have been delivered.
    case unknown(detail: String)

    /// The outcome a server's final reply means. After the end of DATA, a code that is
    /// no SMTP verdict (`999 weird`) leaves the message possibly delivered: unknown.
    public init(finalReply reply: SMTPReply, afterEndOfData: Bool = true) {
        if reply.isPositive {
            self = .accepted(reply)
        } else if reply.isTransient {
            self = .deferred(reply, detail: reply.text)
        } else if reply.isPermanent || !afterEndOfData {
            self = .failed(reply, detail: reply.text)
        } else {
            self = .unknown(detail: "the server answered the end of DATA with '\(reply.text)', which is no SMTP verdict: possibly delivered")
        }
    }

    public var state: MessageState {
        switch self {
        case .accepted: return .accepted
        case .deferred: return .deferred
        case .failed: return .failed
        case .unknown: return .unknown
        }
    }

    public var reply: SMTPReply? {
        switch self {
        case .accepted(let reply), .failed(let reply, _): return reply
        case .deferred(let reply, _): return reply
        case .unknown: return nil
        }
    }

    /// The reply text, or what happened when there was none.
    public var detail: String {
        switch self {
        case .accepted(let reply): return reply.text
        case .deferred(_, let detail), .failed(_, let detail), .unknown(let detail): return detail
        }
    }
}
