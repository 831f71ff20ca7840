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
        let humanText = String((message.allParts.first { $0.contentType == "text/plain" && $0.parts.isEmpty }?.body ?? "").prefix(65_536))
        var reports: [BounceReport] = []
        for fields in recipientGroups(part) {
            func field(_ name: String) -> String? {
                fields.first { $0.name.lowercased() == name }?.value
            }
            let finalField = field("final-recipient"), originalField = field("original-recipient")
            guard finalField != nil || originalField != nil else { continue }
            let final = finalField.flatMap(dsnAddress), original = originalField.flatMap(dsnAddress)
            let recipient = final ?? original
            let rawAction = field("action")
            let action = DSNAction.normalized(rawAction)
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
            var report = report(recipient: recipient, action: action, status: status, code: code, diagnostic: diagnostic,
                                context: humanText, gaveUp: DSNAction.saysExpired(rawAction))
            if let original, original != recipient { report.originalRecipient = original }
            reports.append(report)
        }
        return reports
    }

    /// The per-recipient field groups of a delivery-status part. They are meant to be
    /// separated by blank lines; some MTAs run them together, so a per-recipient field that
    /// comes again also starts a new group.
    static func recipientGroups(_ part: MailMessage) -> [[(name: String, value: String)]] {
        let perRecipient: Set<String> = ["final-recipient", "original-recipient", "action", "status", "diagnostic-code", "remote-mta"]
        var groups: [[(name: String, value: String)]] = []
        let blocks = String(part.body.prefix(262_144)).replacing("\r\n", with: "\n").split(separator: "\n\n", omittingEmptySubsequences: true)
        for block in blocks {
            var current: [(name: String, value: String)] = []
            var seen: Set<String> = []
            for field in MailMessage.parseHeaders(Array(block.utf8)) {
                let name = field.name.lowercased()
                if perRecipient.contains(name), seen.contains(name) {
                    groups.append(current)
                    current = []
                    seen = []
                }
                seen.insert(name)
                current.append(field)
            }
            if !current.isEmpty { groups.append(current) }
        }
        return groups
    }

    /// The address of a `Final-Recipient`/`Original-Recipient` field (`rfc822; user@host`).
    static func dsnAddress(_ field: String) -> String? {
        Address.first(in: field.split(separator: ";", maxSplits: 1).last.map(String.init) ?? field)
    }

    // MARK: free text

    static func freeText(_ message: MailMessage, original: OriginalMessage) -> [BounceReport] {
        let text = TextScan.notification(message)
        guard TextScan.looksLikeBounce(message, text: text) else { return [] }
        // Only the notice itself names recipients; the returned original that follows it
        // (its headers, a list's addresses, a quoted body) never does.
        let (notice, returned) = TextScan.splitReturnedOriginal(text)
        let own = Set([message.header("From"), message.header("To"), message.header("Return-Path")].compactMap { $0 }.flatMap { Address.all(in: $0) })
        let named = TextScan.reportedAddresses(in: notice).filter { !own.contains($0) && !Address.isRobot($0) }
        var recipients = message.headers("X-Failed-Recipients").flatMap { Address.all(in: $0) }
        // The header is written after routing; when the notice lists other addresses and none
        // of the header's, the notice's are the ones the sender wrote to.
        if recipients.isEmpty || (!named.isEmpty && !recipients.contains(where: named.contains)) { recipients = named }
        if recipients.isEmpty { recipients = TextScan.headerAddresses("to", in: returned) }
        if recipients.isEmpty, let recipient = original.recipient { recipients = [recipient] }
        if recipients.isEmpty { recipients = [""] }
        var seen: Set<String> = []
        return recipients.filter { seen.insert($0.lowercased()).inserted }.prefix(20).map { recipient in
            let diagnostic = TextScan.diagnostic(in: notice, near: recipient.isEmpty ? nil : recipient)
            let status = diagnostic.flatMap(StatusCode.find) ?? StatusCode.find(in: notice)
            let code = diagnostic.flatMap(ReplyCode.find) ?? ReplyCode.find(in: notice)
            let action = TextScan.isDelay(notice) ? "delayed" : "failed"
            return report(recipient: recipient.isEmpty ? nil : recipient, action: action, status: status, code: code,
                          diagnostic: diagnostic ?? TextScan.firstParagraph(notice), context: notice, actionIsReported: false)
        }
    }

    /// `actionIsReported`: the Action came from a DSN field rather than being inferred from free text.
    /// `gaveUp`: the DSN says delivery expired (`Action: expired`).
    static func report(recipient: String?, action: String?, status: String?, code: Int?, diagnostic: String?, context: String,
                       actionIsReported: Bool = true, gaveUp: Bool = false) -> BounceReport {
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
            reason = ReasonRules.reason(status: status, code: code, diagnostic: diagnostic ?? "", context: context, action: reportedAction,
                                        gaveUp: gaveUp)
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
