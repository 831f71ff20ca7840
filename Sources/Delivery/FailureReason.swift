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

    /// A permanent refusal at SMTP time that says the address itself will never work
    /// (5.1.1 unknown, 5.1.10 null MX, 5.2.1 disabled): suppressed at once, as a hard
    /// bounce is. A refusal of the sender never is.
    public static func isDeadAddress(_ reason: FailureReason, enhancedStatus: String?) -> Bool {
        guard !reason.isSenderSide else { return false }
        return reason.isHard(permanent: true) || (reason == .suspend && enhancedStatus == "5.2.1")
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
        // A specific status code first (RFC 3463), then the words (with the providers' own
        // codes), then a generic status (5.0.0, 5.7.1), then vague words.
        if let reason = providerReason(lower) { return reason }
        if let status, strongStatuses.contains(String(status.dropFirst(2))), let reason = byStatus(status) { return reason }
        if let reason = byText(lower, allowGeneric: false) { return reason }
        if let status, let reason = byStatus(status) { return reason }
        if let reason = byText(lower, allowGeneric: true) { return reason }
        if let code {
            switch code {
            case 421: return .systemError
            case 450, 451: return .onHold
            case 452: return .systemFull
            case 500, 501, 502, 503, 504: return .syntaxError
            case 550, 553: return .userUnknown
            case 552: return .mailboxFull
            case 554: return .rejected
            default: break
            }
        }
        return .undefined
    }

    /// A provider's own code or unmistakable phrase in `text` (lowercased): it says the
    /// cause whatever the status code or the SMTP step.
    public static func providerReason(_ lower: String) -> FailureReason? {
        providerPhrases.first { $0.1.contains(where: { lower.contains($0) }) }?.0
    }

    /// Subject.detail pairs that name one cause; the others (0.0, 7.1, 5.0, …) say little.
    static let strongStatuses: Set<String> = ["1.1", "1.2", "1.6", "1.8", "1.10", "2.2", "2.3", "3.4", "4.7", "7.13", "7.17", "7.18",
                                              "7.20", "7.21", "7.22", "7.23", "7.24", "7.25", "7.26", "7.27", "7.28"]

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
        case ("2", "3"): return .exceedLimit
        case ("2", "4"): return .mailerError
        case ("3", "1"): return .systemFull
        case ("3", "4"): return .messageTooBig
        case ("3", "2"), ("3", "5"): return .systemError
        case ("4", "1"), ("4", "2"), ("4", "4"), ("4", "0"): return .networkError
        case ("4", "3"): return .systemError
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
        case ("7", "25"): return .requirePTR
        case ("7", "20"), ("7", "21"), ("7", "22"), ("7", "23"), ("7", "24"), ("7", "26"), ("7", "27"): return .authFailure
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

    /// The providers' own codes and unmistakable phrases: they beat even a specific status
    /// (`550 5.1.1 … has sent to too many recipients this hour` is a rate limit).
    private static let providerPhrases: [(FailureReason, [String])] = [
        (.badReputation, ["rp-001", "rp-002", "rp-003", "poor reputation", "bad reputation", "low reputation", "sender reputation",
                          "ip reputation", "ds:rbl", "hl:ip", "hl:iha", "tss04", "unexpected volume or user complaints"]),
        // Cox's AUP#CDRBL: the sending IP is on Cox's own blocklist (whatever the reply says of the sender).
        (.blocked, ["aup#cdrbl"]),
        (.tooManyConnections, ["connection rate limit", "too many connections", "too many concurrent", "connection limit", "hl:icc",
                               "ip frequency limited", "connection frequency limited"]),
        (.speeding, ["4.7.28", "rate limited", "rate limit", "too many messages", "too many recipients", "sending rate", "slow down",
                     "mi:sfq", "frequency limited", "recipient rate", "throttl", "receiving mail at a rate"]),
        (.authFailure, ["5.7.26", "5.7.515", "unauthenticated email"]),
        (.spamDetected, ["dt:spm", "spam classification", "blacklisted url"]),
        (.mailerError, ["procmail", "pipe to |", "command died with status"]),
        (.rejected, ["all recipient addresses rejected : access denied"]),
        (.userUnknown, ["found at the destination domain", "recipient address rejected: access denied", "not listed in domino directory",
                        "mail.local: unknown user",
                        "not listed in public name & address book"]),
        (.hostUnknown, ["account or domain may not exist"]),
        (.systemError, ["unable to contact ldap", "unable to deliver message after multiple retries", "could not load drd"]),
        (.rejected, ["'send mail as'", "customfromdenied"]),
        (.filtered, ["refused due to recipient preferences"]),
    ]

    /// (reason, phrases, generic). Order matters: the first match wins.
    private static let phraseTable: [(FailureReason, [String], Bool)] = [
        // Provider codes and exact phrases.
        (.tooManyConnections, ["connection rate limit", "too many connections", "too many concurrent", "connection limit", "hl:icc"], false),
        (.virusDetected, ["virus", "malware", "infected"], false),
        (.notAccept, ["does not accept mail", "null mx", "not accepting mail", "accepts no mail", "indicated no smtp service",
                      "does not receive mail", "no mx record", "no mx found", "couldn't find a mail exchanger"], false),
        (.speeding, ["4.7.28", "rate limited", "rate limit", "too many messages", "sending rate", "slow down", "mi:sfq",
                     "frequency limited", "frequency limit", "recipient rate", "throttl", "receiving mail at a rate",
                     "mailbox receiving too many", "exceeded the sending limit", "daily sending quota", "ratelimit"], false),
        (.badReputation, ["rp-001", "rp-002", "rp-003", "poor reputation", "bad reputation", "low reputation", "sender reputation",
                          "ip reputation", "ds:rbl", "hl:ip", "hl:iha", "tss04", "unexpected volume or user complaints"], false),
        (.authFailure, ["dmarc", "spf record", "spf check", "spf fail", "bad spf", "spf validation", "sender policy framework", "dkim",
                        "not authenticated", "authentication check"], false),
        (.securityError, ["smtp authentication", "authentication required", "authrequired", "must be authenticated", "please authenticate"], false),
        (.notCompliantRFC, ["multiple addresses in from", "addresses in from: header", "rfc 5322", "rfc5322", "rfc 2822", "not rfc compliant", "not compliant with rfc"], false),
        (.policyViolation, ["for policy reasons", "protocol violation", "header error", "policy violation", "because its content presents"], false),
        (.systemFull, ["insufficient disk space", "disk full", "out of disk", "insufficient system storage", "system full"], false),
        (.mailboxFull, ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "insufficient storage",
                        "mailbox size limit", "user is over", "storage limit", "folder is full", "recipient's mailbox", "mailbox exceeded"], false),
        (.suspend, ["account is locked", "account is blocked", "mailbox is frozen", "frozen", "recipient account is blocked", "account has been disabled",
                    "account is disabled", "suspended", "disabled", "inactive", "deactivated", "account expired", "not active"], false),
        (.requirePTR, ["reverse dns", "ptr record", "no ptr", "reverse lookup", "rdns", "cannot find your hostname", "hostname lookup",
                       "ip name lookup failed", "mismatches client ip"], false),
        (.rejected, ["sender address rejected", "sender was rejected", "domain of sender", "sender verify failed", "purported responsible address",
                     "sender rejected", "invalid sender", "sender domain", "bad sender", "sender is not allowed"], false),
        // Blocklists before spam: "blocked using Spamhaus" is about the sender's IP, not the content.
        (.blocked, ["smtp server of your isp", "dynamic ip", "dynamically assigned", "dial-up", "residential", "my name was rejected",
                    "client host blocked", "ip source", "invalid ip for sending", "spamhaus", "blocked using", "listed at", "blacklist",
                    "blocklist", "dnsbl", "spamcop", "barracudacentral"], false),
        (.spamDetected, ["dt:spm", "spam", "junk mail", "content rejected", "message content", "uce"], false),
        (.noRelaying, ["no relaying", "relay access denied", "relaying denied", "not permitted to relay", "relay not permitted", "unable to relay",
                       "relay denied", "we do not relay", "not allowed to relay", "this system is not configured to relay"], false),
        (.failedStartTLS, ["must issue a starttls", "starttls required", "tls required", "encryption required"], false),
        (.blocked, ["blocked", "denylist", "rbl", "refused by", "access denied", "banned", "your ip", "client host rejected",
                    "connection refused", "not allowed to send"], false),
        (.messageTooBig, ["message too large", "message too big", "message size exceeds", "size limit", "too big for"], false),
        (.hasMoved, ["has moved", "moved to", "no longer at"], false),
        (.networkError, ["dns error", "name server", "name service error", "dns query failed", "dns type", "host name lookup failure"], false),
        (.hostUnknown, ["illegal host/domain", "host not found", "unrouteable", "no such domain", "domain not found", "host unknown", "unknown host",
                        "name or service not known", "nxdomain", "domain does not exist", "domain may not exist", "domain is not reachable"], false),
        (.networkError, ["network error", "hop count", "routing loop", "mail loop", "wasn't able to establish", "unable to connect",
                         "could not connect", "malformed or unexpected name server reply", "connection timed out", "no route to host"], false),
        (.mailerError, ["procmail", "pipe to |", "command died with status", "mailer error", "child status"], false),
        (.syntaxError, ["malformed address", "syntax error", "command parameter not implemented", "unrecognized command", "bad sequence"], false),
        (.userUnknown, ["user unknown", "unknown user", "no such user", "does not exist", "user not found", "recipient not found",
                        "invalid recipient", "unknown recipient", "no mailbox", "mailbox not found",
                        "recipient rejected", "invalid mailbox", "not a valid", "no such recipient", "mailbox unavailable",
                        "account does not exist", "unknown or illegal alias", "is not a known user", "user doesn't have", "no valid recipients",
                        "mailbox does not exist", "bad destination mailbox", "undeliverable address",
                        "unknown local part", "the email account that you tried to reach does not exist", "recipient name is not recognized",
                        "address wasn't found", "wasn’t found at the destination", "no such mailbox", "invalid address"], false),
        (.expired, ["retry timeout exceeded", "delivery time expired", "message expired", "queue too long",
                    "could not be delivered within", "retry time"], false),
        (.policyViolation, ["policy", "not allowed", "prohibited", "administrative", "rejected by", "denied"], true),
        (.systemError, ["system error", "internal error", "local error", "server error", "service unavailable", "currently unavailable",
                        "ldap", "unable to contact"], true),
        (.networkError, ["network", "connection reset", "lost connection", "dns"], true),
        (.filtered, ["filter", "rejected"], true),
    ]
}
