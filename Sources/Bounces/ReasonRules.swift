import Delivery

/// The reason for a failure: the reply classifier on the diagnostic, refined by the SMTP
/// step that failed and by how long delivery was tried.
enum ReasonRules {
    /// `gaveUp`: the report itself says delivery expired (`Action: expired`).
    static func reason(status: String?, code: Int?, diagnostic: String, context: String, action: String? = nil,
                       gaveUp reportedExpiry: Bool = false) -> FailureReason {
        // Still being tried: the time is running out, unless the words name a cause.
        if action == "delayed" {
            let byText = FailureClassifier.classify(status: nil, code: nil, text: diagnostic)
            let words = diagnostic.lowercased()
            let namesTheNetwork = ["lookup", "dns", "network error"].contains(where: { words.contains($0) })
            let vague = [.undefined, .onHold, .systemError].contains(byText) || byText == .networkError && !namesTheNetwork
            return vague ? .expired : byText
        }
        let text = diagnostic.lowercased()
        let whole = context.lowercased()
        if let provider = FailureClassifier.providerReason(text) { return provider }
        var reason = FailureClassifier.classify(status: status == "4.4.7" || status == "5.4.7" ? nil : status, code: code, text: diagnostic)
        // Gave up after retrying: unless the last reply says something more specific.
        let gaveUp = status == "4.4.7" || status == "5.4.7" || expiryPhrases.contains(where: { text.contains($0) || whole.contains($0) })
        if gaveUp && [.undefined, .onHold, .expired, .hostUnknown].contains(reason) && !hostPhrases.contains(where: { text.contains($0) }) {
            return .expired
        }
        // Stopped retrying: the time ran out, unless the last try named a cause.
        if reportedExpiry, [.undefined, .onHold, .networkError, .systemError].contains(reason) { return .expired }
        if status?.hasSuffix(".4.7") == true, [.undefined, .onHold, .rejected].contains(reason), code == nil || code! >= 500 { return .expired }
        // A DSN that failed with a transient status gave up retrying (connect timeouts and the like).
        if action == "failed", status?.hasPrefix("4") == true, reason == .networkError,
           !text.contains("dns") && !text.contains("name serv") && !text.contains("lost connection") {
            return .expired
        }
        if hostPhrases.contains(where: { text.contains($0) }) && [.undefined, .systemError, .networkError, .blocked, .onHold].contains(reason) {
            reason = .hostUnknown
        }
        let step = SMTPStep.find(in: diagnostic) ?? SMTPStep.find(in: context)
        if text.contains("(state 9)") { return .failedStartTLS }    // Gmail: STARTTLS failed
        if step == .data && (text.contains("(state 14)") || text.contains("(state 18)") || text.contains("(state 17)")) {
            return .filtered                                        // Gmail: refused after DATA
        }
        // A bare "user unknown" with no status that names the mailbox (x.1.x, x.2.x), and not
        // at RCPT, is a filter's answer after the message was seen.
        // (A detail past RFC 3463's numbers, like Exchange's 5.1.351, names nothing standard.)
        let subject = status.flatMap { status -> String? in
            let parts = status.split(separator: ".")
            return parts.count == 3 && (Int(parts[2]) ?? 999) <= 30 ? String(parts[1]) : nil
        }
        // (Not the local delivery agent's own "mail.local: unknown user": that is the mailbox itself.)
        let bareUnknownUser = unknownUserPhrases.contains(where: { text.contains($0) }) && !text.contains("mail.local")
            && !text.contains("delivery error: dd")   // Yahoo's own wording for a mailbox that does not exist
        if reason == .userUnknown, step != .rcpt, subject != "1", subject != "2", bareUnknownUser {
            reason = .filtered
        }
        switch step {
        case .data? where [.undefined, .onHold].contains(reason) || reason == .userUnknown && bareUnknownUser && subject != "1":
            // Refused after the whole message was sent: a filter looked at it.
            reason = .filtered
        case .mail? where [.undefined, .onHold, .userUnknown, .filtered, .securityError, .systemError, .blocked,
                           .noRelaying].contains(reason) && !text.contains("your isp") && !text.contains("client host"):
            reason = .rejected
        case .connect? where [.undefined, .rejected, .onHold, .userUnknown, .policyViolation, .securityError, .systemError].contains(reason):
            reason = .blocked
        default:
            break
        }
        if reason == .undefined {
            let byContext = FailureClassifier.classify(status: nil, code: nil, text: context)
            if byContext != .undefined {
                reason = byContext
            } else if code != nil || status != nil {
                reason = .onHold    // a failure with too little said to decide
            }
        }
        return reason
    }

    /// "No such user" in its many wordings: at RCPT it is the mailbox; elsewhere a filter's answer.
    static let unknownUserPhrases = ["unknown user", "user unknown", "no such user", "recipient not found", "user doesn't have",
                                     "user does not have"]

    static let expiryPhrases = ["retry timeout exceeded", "delivery time expired", "could not be delivered within", "message expired",
                                "too long in the queue", "was not delivered within", "envelope expired", "queue time expired",
                                "message has been in the queue too long", "i'm not going to try again; this message has been in the queue too long",
                                "delivery attempts will continue", "time limit exceeded", "has expired", "expired after"]

    static let hostPhrases = ["host not found", "host or domain name not found", "unrouteable address", "no such domain", "domain not found",
                              "domain does not exist", "unknown host", "name or service not known", "domain is not reachable", "host unknown",
                              "could not be resolved"]
}
