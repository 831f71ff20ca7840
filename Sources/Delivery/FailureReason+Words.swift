extension FailureReason {
    /// The reason as a manager would say it; the taxonomy id stays in JSON and CSV.
    public var inWords: String {
        switch self {
        case .userUnknown: return "address does not exist"
        case .hostUnknown: return "domain does not exist"
        case .hasMoved: return "mailbox has moved"
        case .notAccept: return "domain takes no mail"
        case .mailboxFull: return "mailbox full"
        case .suspend: return "mailbox disabled"
        case .exceedLimit: return "over the recipient's limit"
        case .filtered: return "refused by the recipient's filter"
        case .spamDetected: return "refused as spam"
        case .virusDetected: return "refused as a virus"
        case .policyViolation: return "refused by the recipient's policy"
        case .contentError: return "message refused as malformed"
        case .notCompliantRFC: return "message not standard"
        case .messageTooBig: return "message too large"
        case .rejected: return "sender address refused"
        case .blocked: return "sending server blocked"
        case .badReputation: return "sending server's reputation too low"
        case .requirePTR: return "sending server lacks reverse DNS"
        case .authFailure: return "SPF, DKIM or DMARC failed"
        case .noRelaying: return "relaying refused"
        case .securityError: return "security requirement not met"
        case .speeding: return "server asked to slow down"
        case .tooManyConnections: return "too many connections"
        case .expired: return "gave up after retrying"
        case .networkError: return "network or DNS problem"
        case .systemError: return "recipient's server failed"
        case .systemFull: return "recipient's server full"
        case .mailerError: return "recipient's mail program failed"
        case .syntaxError: return "server did not understand"
        case .failedStartTLS: return "encryption (TLS) failed"
        case .suppressed: return "on the suppression list"
        case .onHold: return "not decided yet"
        case .undefined: return "reason not given"
        case .delivered: return "delivered"
        case .feedback: return "marked as spam by the recipient"
        case .vacation: return "automatic reply"
        }
    }

    /// A stored reason in words: a taxonomy id becomes its words, any other text stays as it is.
    public static func words(for stored: String) -> String {
        FailureReason(rawValue: stored)?.inWords ?? stored
    }
}
