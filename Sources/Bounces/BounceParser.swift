import Delivery

/// Reads bounce messages: RFC 3464 delivery status notifications (several recipients
/// each), RFC 5965 feedback reports, RFC 3834 auto-replies, and the free-text formats
/// that Exim, qmail, older Postfix and Sendmail, Exchange, Gmail, Yahoo, Courier,
/// Domino and others still send, recognised by their structure and words.
public enum BounceParser {
    /// The reports in one message; empty when it is no bounce at all (never a crash).
    public static func parse(_ bytes: [UInt8]) -> [BounceReport] {
        // Enormous inputs are cut: a bounce's useful part is at its start.
        let message = MailMessage(bytes: bytes.count > 4 << 20 ? Array(bytes.prefix(4 << 20)) : bytes)
        let original = OriginalMessage(in: message)
        var reports: [BounceReport]
        if let feedback = feedbackReport(message, original: original) {
            reports = [feedback]
        } else if let notification = AmazonSESNotification.reports(in: message) {
            reports = notification
        } else if let status = message.allParts.first(where: { ["message/delivery-status", "message/global-delivery-status"].contains($0.contentType) }) {
            reports = deliveryStatus(status, message: message)
            if reports.isEmpty { reports = freeText(message, original: original) }
        } else if isAutoReply(message) && !TextScan.looksLikeBounce(message, text: TextScan.notification(message)) {
            reports = [BounceReport(kind: .autoReply, recipient: Address.first(in: message.header("From") ?? ""), action: nil, status: nil,
                                    replyCode: nil, reason: .vacation, hard: false, diagnostic: message.header("Subject"))]
        } else {
            reports = freeText(message, original: original)
        }
        let returnPath = Address.first(in: message.header("Delivered-To") ?? message.header("X-Original-To") ?? message.header("To") ?? "")
        return reports.map { report in
            var report = report
            report.messageID = report.messageID ?? original.messageID
            report.campaign = original.campaign
            report.returnPath = returnPath
            if report.recipient == nil { report.recipient = original.recipient }
            return report
        }
    }

    // MARK: RFC 3464

    static func deliveryStatus(_ part: MailMessage, message: MailMessage) -> [BounceReport] {
        let blocks = String(part.body.prefix(262_144)).replacing("\r\n", with: "\n").split(separator: "\n\n", omittingEmptySubsequences: true)
        let humanText = String((message.allParts.first { $0.contentType == "text/plain" && $0.parts.isEmpty }?.body ?? "").prefix(65_536))
        var reports: [BounceReport] = []
        for block in blocks {
            let fields = MailMessage.parseHeaders(Array(block.utf8))
            func field(_ name: String) -> String? {
                fields.first { $0.name.lowercased() == name }?.value
            }
            guard let recipientField = field("final-recipient") ?? field("original-recipient") else { continue }
            let recipient = Address.first(in: recipientField.split(separator: ";", maxSplits: 1).last.map(String.init) ?? recipientField)
            let action = field("action")?.lowercased().trimmingCharacters(in: " \t")
            var status = field("status").flatMap { StatusCode.find(in: $0) }
            var diagnostic = field("diagnostic-code").map { text -> String in
                let parts = text.split(separator: ";", maxSplits: 1)
                return (parts.count == 2 && parts[0].count < 12 ? String(parts[1]) : text).trimmingCharacters(in: " \t")
            }
            if diagnostic?.isEmpty ?? true, let statusField = field("status"), let comment = statusField.split(separator: "(", maxSplits: 1).last,
               statusField.contains("(") {
                diagnostic = String(comment.dropLast(comment.hasSuffix(")") ? 1 : 0))
            }
            if diagnostic?.isEmpty ?? true {
                diagnostic = recipient.flatMap { TextScan.diagnostic(in: humanText, near: $0) } ?? TextScan.diagnostic(in: humanText, near: nil)
            }
            let code = diagnostic.flatMap(ReplyCode.find)
            if let found = diagnostic.flatMap(StatusCode.find), status == nil || status?.hasSuffix(".0.0") == true { status = found }
            reports.append(report(recipient: recipient, action: action, status: status, code: code, diagnostic: diagnostic,
                                  context: humanText))
        }
        return reports
    }

    // MARK: free text

    static func freeText(_ message: MailMessage, original: OriginalMessage) -> [BounceReport] {
        let text = TextScan.notification(message)
        guard TextScan.looksLikeBounce(message, text: text) else { return [] }
        var recipients = message.headers("X-Failed-Recipients").flatMap { Address.all(in: $0) }
        if recipients.isEmpty {
            let own = Set([message.header("From"), message.header("To"), message.header("Return-Path")].compactMap { $0 }.flatMap { Address.all(in: $0) })
            recipients = Address.all(in: text).filter { !own.contains($0) && !Address.isRobot($0) }
        }
        if recipients.isEmpty, let recipient = original.recipient { recipients = [recipient] }
        if recipients.isEmpty { recipients = [""] }
        var seen: Set<String> = []
        return recipients.filter { seen.insert($0.lowercased()).inserted }.prefix(20).map { recipient in
            let diagnostic = TextScan.diagnostic(in: text, near: recipient.isEmpty ? nil : recipient)
            let status = diagnostic.flatMap(StatusCode.find) ?? StatusCode.find(in: text)
            let code = diagnostic.flatMap(ReplyCode.find) ?? ReplyCode.find(in: text)
            let action = TextScan.isDelay(text) ? "delayed" : "failed"
            return report(recipient: recipient.isEmpty ? nil : recipient, action: action, status: status, code: code,
                          diagnostic: diagnostic ?? TextScan.firstParagraph(text), context: text, actionIsReported: false)
        }
    }

    /// `actionIsReported`: the Action came from a DSN field rather than being inferred from free text.
    static func report(recipient: String?, action: String?, status: String?, code: Int?, diagnostic: String?, context: String,
                       actionIsReported: Bool = true) -> BounceReport {
        let reportedAction = actionIsReported || action == "delayed" ? action : nil
        let kind: BounceReport.Kind
        var reason: FailureReason
        // A 2.x.x status is a success notice whether or not the Action says so.
        switch status?.hasPrefix("2") == true ? "delivered" : action {
        case "delivered", "relayed", "expanded":
            kind = .delivered
            reason = .delivered
        case "delayed":
            kind = .delay
            reason = ReasonRules.reason(status: status, code: code, diagnostic: diagnostic ?? "", context: context, action: reportedAction)
        default:
            kind = .failure
            reason = ReasonRules.reason(status: status, code: code, diagnostic: diagnostic ?? "", context: context, action: reportedAction)
        }
        let permanent = status?.hasPrefix("5") ?? (code.map { $0 >= 500 } ?? true)
        return BounceReport(kind: kind, recipient: recipient, action: action, status: status, replyCode: code, reason: reason,
                            hard: kind == .failure && reason.isHard(permanent: permanent), diagnostic: diagnostic?.collapsedWhitespace)
    }

    // MARK: ARF and auto-replies

    static func feedbackReport(_ message: MailMessage, original: OriginalMessage) -> BounceReport? {
        let isARF = message.parameter("report-type", of: "Content-Type")?.lowercased() == "feedback-report"
            || message.allParts.contains { $0.contentType == "message/feedback-report" }
        guard isARF else { return nil }
        let report = message.allParts.first { $0.contentType == "message/feedback-report" }
        let fields = report.map { MailMessage.parseHeaders(Array($0.body.utf8)) } ?? []
        let recipient = fields.first { $0.name.lowercased() == "original-rcpt-to" }.flatMap { Address.first(in: $0.value) }
            ?? original.recipient
        return BounceReport(kind: .complaint, recipient: recipient, action: nil, status: nil, replyCode: nil, reason: .feedback, hard: false,
                            diagnostic: fields.first { $0.name.lowercased() == "feedback-type" }?.value)
    }

    static func isAutoReply(_ message: MailMessage) -> Bool {
        let from = (message.header("From") ?? "").lowercased()
        if Address.isRobot(Address.first(in: from) ?? "") { return false }
        let autoSubmitted = (message.header("Auto-Submitted") ?? "").lowercased()
        if autoSubmitted.hasPrefix("auto-replied") || message.header("X-Autoreply") != nil || message.header("X-Autorespond") != nil {
            return true
        }
        let subject = (message.header("Subject") ?? "").lowercased()
        return ["out of office", "out of the office", "auto-reply", "autoreply", "automatic reply", "vacation", "自动回复", "abwesenheit", "absence"]
            .contains { subject.contains($0) }
    }
}

extension String {
    var collapsedWhitespace: String {
        split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).joined(separator: " ")
    }
}
