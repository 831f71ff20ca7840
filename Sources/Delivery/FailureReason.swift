/// Why a message was not delivered, in one taxonomy for SMTP replies and bounce
/// messages (the sisimai reasons used by the bounce corpus).
public enum FailureReason: String, Sendable, CaseIterable, Codable {
    // The recipient's side, permanent.
    case userUnknown = "userunknown", hostUnknown = "hostunknown", hasMoved = "hasmoved", notAccept = "notaccept"
    // The recipient's side, transient or soft.
    case mailboxFull = "mailboxfull", suspend, exceedLimit = "exceedlimit"
    // Content and policy.
    case filtered, spamDetected = "spamdetected", virusDetected = "virusdetected", policyViolation = "policyviolation"
    case contentError = "contenterror", notCompliantRFC = "notcompliantrfc", messageTooBig = "mesgtoobig"
    // The sender's side.
    case rejected, blocked, badReputation = "badreputation", requirePTR = "requireptr", authFailure = "authfailure"
    case noRelaying = "norelaying", securityError = "securityerror", speeding, tooManyConnections = "toomanyconn"
    // Transport and systems.
    case expired, networkError = "networkerror", systemError = "systemerror", systemFull = "systemfull"
    case mailerError = "mailererror", syntaxError = "syntaxerror", failedStartTLS = "failedstarttls", suppressed
    // Undecided, and not failures at all.
    case onHold = "onhold", undefined, delivered, feedback, vacation

    /// Replies that say the server refuses the sender, not the recipient: they never
    /// count against the recipient, and many in a row pause the campaign.
    public var isSenderSide: Bool {
        switch self {
        case .rejected, .blocked, .badReputation, .requirePTR, .authFailure, .noRelaying, .securityError, .speeding,
             .tooManyConnections, .spamDetected, .policyViolation, .failedStartTLS, .virusDetected:
            return true
        default:
            return false
        }
    }

    /// Hard bounces: the address will never work. notaccept only when permanent.
    public func isHard(permanent: Bool) -> Bool {
        switch self {
        case .userUnknown, .hostUnknown, .hasMoved: return true
        case .notAccept: return permanent
        default: return false
        }
    }
}

/// Classifies a reply or a DSN's status and diagnostic: enhanced status code first
/// (RFC 3463), then the words of the text, including the big providers' own codes.
public enum FailureClassifier {
    public static func classify(status: String?, code: Int?, text: String) -> FailureReason {
        let lower = text.lowercased()
        // Provider codes and unmistakable phrases beat a generic status.
        if let reason = byText(lower, allowGeneric: false) { return reason }
        if let status, let reason = byStatus(status) { return reason }
        if let reason = byText(lower, allowGeneric: true) { return reason }
        if let code {
            switch code {
            case 421: return .systemError
            case 450, 451: return .systemError
            case 452: return .systemFull
            case 550, 553: return .userUnknown
            case 552: return .mailboxFull
            case 554: return .rejected
            default: break
            }
        }
        return .undefined
    }

    static func byStatus(_ status: String) -> FailureReason? {
        let parts = status.split(separator: ".")
        guard parts.count == 3 else { return nil }
        switch (parts[1], parts[2]) {
        case ("1", "1"), ("1", "0"), ("1", "3"): return .userUnknown
        case ("1", "2"): return .hostUnknown
        case ("1", "6"): return .hasMoved
        case ("1", "10"): return .notAccept
        case ("1", "7"), ("1", "8"): return .rejected
        case ("2", "1"): return .suspend
        case ("2", "2"): return .mailboxFull
        case ("2", "3"): return .messageTooBig
        case ("2", "4"): return .mailerError
        case ("3", "1"): return .systemFull
        case ("3", "4"): return .messageTooBig
        case ("3", "0"), ("3", "2"), ("3", "5"): return .systemError
        case ("4", "1"), ("4", "2"), ("4", "4"), ("4", "0"): return .networkError
        case ("4", "3"): return .hostUnknown
        case ("4", "6"): return .networkError
        case ("4", "7"): return .expired
        case ("5", "3"): return .tooManyConnections
        case ("5", _): return .syntaxError
        case ("6", _): return .contentError
        case ("7", "1"): return .policyViolation
        case ("7", "7"): return .filtered
        case ("7", "8"): return .authFailure
        case ("7", "9"): return .securityError
        case ("7", "10"), ("7", "11"): return .failedStartTLS
        case ("7", "13"): return .suspend
        case ("7", "17"), ("7", "18"): return .hasMoved
        case ("7", "20"), ("7", "21"), ("7", "22"), ("7", "23"), ("7", "24"), ("7", "25"), ("7", "26"), ("7", "27"): return .authFailure
        case ("7", "28"): return .speeding
        case ("7", "0"): return .securityError
        default: return nil
        }
    }

    /// Phrases in replies and diagnostics: the specific ones, or (`generic`) the vague
    /// ones, which a status code should beat.
    static func byText(_ text: String, allowGeneric generic: Bool) -> FailureReason? {
        for (reason, phrases, isGeneric) in phraseTable where isGeneric == generic {
            if phrases.contains(where: { text.contains($0) }) { return reason }
        }
        return nil
    }

    /// (reason, phrases, generic). Order matters: the first match wins.
    private static let phraseTable: [(FailureReason, [String], Bool)] = [
        // Provider codes and exact phrases.
        (.speeding, ["4.7.28", "rate limited", "rate limit", "too many messages", "sending rate", "slow down", "tss04", "mi:sfq",
                     "frequency limited", "frequency limit", "recipient rate", "throttl", "try again later: too many",
                     "mailbox receiving too many", "exceeded the sending limit", "daily sending quota", "ratelimit"], false),
        (.badReputation, ["rp-001", "rp-002", "rp-003", "poor reputation", "bad reputation", "low reputation", "sender reputation",
                          "ip reputation", "ds:rbl", "hl:ip", "hl:iha"], false),
        (.authFailure, ["5.7.26", "5.7.515", "unauthenticated email", "dmarc", "spf check", "spf fail", "dkim", "not authenticated",
                        "authentication check"], false),
        // Blocklists before spam: "blocked using Spamhaus" is about the sender's IP, not the content.
        (.blocked, ["spamhaus", "blocked using", "listed at", "blacklist", "blocklist", "dnsbl", "spamcop", "barracudacentral"], false),
        (.spamDetected, ["dt:spm", "spam", "junk mail", "content rejected", "message content", "uce"], false),
        (.tooManyConnections, ["too many connections", "too many concurrent", "connection limit", "hl:icc"], false),
        (.requirePTR, ["reverse dns", "ptr record", "no ptr", "reverse lookup", "rdns", "cannot find your hostname", "hostname lookup"], false),
        (.noRelaying, ["relay access denied", "relaying denied", "not permitted to relay", "relay not permitted", "unable to relay",
                       "relay denied", "we do not relay", "not allowed to relay"], false),
        (.failedStartTLS, ["must issue a starttls", "starttls required", "tls required", "encryption required"], false),
        (.blocked, ["blocked", "blacklist", "blocklist", "denylist", "rbl", "spamhaus", "listed at", "refused by", "access denied",
                    "banned", "your ip", "client host rejected", "connection refused", "not allowed to send"], false),
        (.virusDetected, ["virus", "malware", "infected"], false),
        (.mailboxFull, ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "insufficient storage",
                        "mailbox size limit", "user is over", "storage limit"], false),
        (.messageTooBig, ["message too large", "message too big", "message size exceeds", "size limit", "too big for"], false),
        (.suspend, ["suspended", "disabled", "inactive", "deactivated", "mailbox unavailable temporarily", "account expired",
                    "not active"], false),
        (.hasMoved, ["has moved", "moved to", "no longer at"], false),
        (.hostUnknown, ["host not found", "unrouteable", "no such domain", "domain not found", "host unknown", "unknown host",
                        "name or service not known", "nxdomain", "domain does not exist", "no mx", "no route to host"], false),
        (.userUnknown, ["user unknown", "unknown user", "no such user", "does not exist", "user not found", "recipient not found",
                        "invalid recipient", "unknown recipient", "no mailbox", "mailbox not found", "address rejected",
                        "recipient rejected", "invalid mailbox", "not a valid", "no such recipient", "mailbox unavailable",
                        "account does not exist", "unknown or illegal alias", "is not a known user", "user doesn't have",
                        "mailbox does not exist", "bad destination mailbox", "undeliverable address", "recipient address rejected",
                        "unknown local part", "the email account that you tried to reach does not exist"], false),
        (.notAccept, ["does not accept mail", "null mx", "not accepting mail", "accepts no mail"], false),
        (.expired, ["retry timeout exceeded", "delivery time expired", "message expired", "timed out", "giving up", "queue too long",
                    "could not be delivered within", "retry time", "has been delayed"], false),
        (.policyViolation, ["policy", "not allowed", "prohibited", "administrative", "rejected by", "denied"], true),
        (.systemError, ["system error", "internal error", "temporary failure", "try again", "local error", "server error"], true),
        (.networkError, ["network", "connection timed out", "connection reset", "lost connection", "dns"], true),
        (.filtered, ["filter", "rejected"], true),
    ]
}
