/// The SMTP command a failure answered, as bounce notices tell it ("in reply to RCPT TO
/// command", "after end of data", ">>> MAIL FROM"): it says who was refused.
enum SMTPStep {
    case connect, mail, rcpt, data

    static let gmailStates: [(Int, SMTPStep)] = [(6, .connect), (8, .connect), (12, .mail), (13, .rcpt), (14, .data), (15, .data),
                                                 (17, .data), (18, .data)]

    static func find(in text: String) -> SMTPStep? {
        let lower = text.lowercased()
        // Gmail names the step by a state number.
        for (state, step) in gmailStates where lower.contains("(state \(state))") { return step }
        let rules: [(SMTPStep, [String])] = [
            (.data, ["in reply to end of data", "after end of data", "in reply to data command", "after data", ">>> data", "end of data"]),
            (.rcpt, ["in reply to rcpt to", "after rcpt to", ">>> rcpt to", "rcpt to:<", "in rcpt to"]),
            (.mail, ["in reply to mail from", "after mail from", ">>> mail from", "sender was rejected", "sender address rejected"]),
            (.connect, ["in reply to helo", "in reply to ehlo", "after ehlo", "after helo", ">>> helo", ">>> ehlo", "my name was rejected",
                        "after initial connection", "greeting failed", "while connected to", "before mail from"]),
        ]
        var best: (SMTPStep, String.Index)?
        for (step, phrases) in rules {
            for phrase in phrases {
                if let range = lower.firstRange(of: phrase), range.lowerBound < (best?.1 ?? lower.endIndex) {
                    best = (step, range.lowerBound)
                }
            }
        }
        return best?.0
    }
}
