/// Addresses found in free text: `<user@example.com>`, `user@example.com:`, quoted or not.
enum Address {
    private static func isLocal(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || "!#$%&'*+-/=?^_`{|}~.".contains(c)
    }

    private static func isDomain(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "-" || c == "."
    }

    static func all(in text: String) -> [String] {
        var result: [String] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            guard characters[index] == "@" else { index += 1; continue }
            var start = index
            while start > 0, isLocal(characters[start - 1]) { start -= 1 }
            var end = index + 1
            while end < characters.count, isDomain(characters[end]) { end += 1 }
            var local = String(characters[start..<index])
            var domain = String(characters[(index + 1)..<end])
            while local.hasPrefix(".") || local.hasPrefix("'") || local.hasPrefix("`") { local.removeFirst() }
            // Gateways write `smtp=user@host` (and `SMTP:`, which stops the scan by itself).
            for prefix in ["smtp=", "rfc822="] where local.lowercased().hasPrefix(prefix) { local.removeFirst(prefix.count) }
            while domain.hasSuffix(".") || domain.hasSuffix("-") { domain.removeLast() }
            if !local.isEmpty, domain.contains("."), domain.first != ".", !domain.contains(".."),
               let tld = domain.split(separator: ".").last, tld.count >= 2, tld.allSatisfy(\.isLetter) {
                result.append("\(local)@\(domain)".lowercased())
            }
            index = max(end, index + 1)
        }
        return result
    }

    static func first(in text: String) -> String? {
        all(in: text).first
    }

    /// Daemon and postmaster addresses: the bounce's own machinery, never the recipient.
    static func isRobot(_ address: String) -> Bool {
        let local = address.split(separator: "@").first.map { $0.lowercased() } ?? ""
        return ["mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon", "noreply", "no-reply", "nobody", "root",
                "double-bounce", "bounce", "bounces", "mailer"].contains(local)
            || local.hasPrefix("mailer-daemon") || local.hasPrefix("postmaster") || local.hasPrefix("bounce+")
    }
}

/// RFC 3463 enhanced status codes in text (`5.1.1`).
enum StatusCode {
    static func find(in text: String) -> String? {
        let characters = Array(text)
        var index = 0
        while index + 4 < characters.count {
            let c = characters[index]
            if (c == "2" || c == "4" || c == "5"), characters[index + 1] == ".",
               index == 0 || !(characters[index - 1].isNumber || characters[index - 1] == "."),
               let (status, length) = parse(characters, from: index) {
                let after = index + length
                if after >= characters.count || !(characters[after].isNumber || (characters[after] == "." && after + 1 < characters.count && characters[after + 1].isNumber)) {
                    return status
                }
            }
            index += 1
        }
        return nil
    }

    private static func parse(_ characters: [Character], from start: Int) -> (String, Int)? {
        var index = start + 2
        var middle = ""
        while index < characters.count, characters[index].isNumber, middle.count < 3 { middle.append(characters[index]); index += 1 }
        guard !middle.isEmpty, index < characters.count, characters[index] == "." else { return nil }
        index += 1
        var last = ""
        while index < characters.count, characters[index].isNumber, last.count < 3 { last.append(characters[index]); index += 1 }
        guard !last.isEmpty else { return nil }
        return ("\(characters[start]).\(middle).\(last)", index - start)
    }
}

/// SMTP reply codes in text: a 2xx/4xx/5xx number standing alone, as at the start of a reply.
enum ReplyCode {
    static func find(in text: String) -> Int? {
        let characters = Array(text)
        var index = 0
        while index + 2 < characters.count {
            let c = characters[index]
            if (c == "4" || c == "5"), characters[index + 1].isNumber, characters[index + 2].isNumber,
               index == 0 || !(characters[index - 1].isNumber || characters[index - 1].isLetter || characters[index - 1] == "." || characters[index - 1] == "-" || characters[index - 1] == "#"),
               index + 3 == characters.count || characters[index + 3] == " " || characters[index + 3] == "-" || characters[index + 3] == "\n" {
                if let code = Int(String(characters[index...(index + 2)])), (421...559).contains(code), code != 500 || true {
                    // A status code right after it (550 5.1.1) confirms it; alone, accept the usual ones.
                    if [421, 450, 451, 452, 454, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 521, 530, 535, 541, 571].contains(code)
                        || (index + 5 < characters.count && characters[index + 4].isNumber && characters[index + 5] == ".") {
                        return code
                    }
                }
            }
            index += 1
        }
        return nil
    }
}

/// Reading the human part of a bounce.
enum TextScan {
    /// The notification text: the first text part, without the returned original.
    static func notification(_ message: MailMessage) -> String {
        let textPart = message.allParts.first { $0.parts.isEmpty && ($0.contentType == "text/plain" || $0.contentType == "text/html") }
        // What a notice says about the failure is at its start; megabytes after it only cost time.
        var text = String((textPart?.body ?? message.body).prefix(65_536))
        if textPart?.contentType == "text/html" { text = stripTags(text) }
        // The returned original starts at the earliest of these markers; what follows is not about the failure.
        let markers = ["------ This is a copy of the message", "--- Below this line is a copy of the message", "----- Original message",
                       "------ Original message", "Original message follows", "-----Original Message-----", "--- The header of the original message",
                       "--- Enclosed are the original headers", "Original message headers:", "------- Returned Message", "----- Unsent message follows",
                       "Below is a copy of the original message"]
        if let cut = markers.compactMap({ text.range(of: $0, options: .caseInsensitive)?.lowerBound }).min() {
            text = String(text[..<cut])
        }
        return text.replacing("\r\n", with: "\n")
    }

    static func looksLikeBounce(_ message: MailMessage, text: String) -> Bool {
        let from = (message.header("From") ?? "").lowercased()
        let subject = (message.header("Subject") ?? "").lowercased()
        if message.header("X-Failed-Recipients") != nil { return true }
        if Address.isRobot(Address.first(in: from) ?? "") || from.contains("mailer-daemon") || from.contains("postmaster") { return true }
        let words = ["undeliver", "delivery status", "delivery failure", "failure notice", "returned mail", "could not be delivered",
                     "delivery has failed", "mail delivery failed", "non-delivery", "nondeliverable", "not be delivered", "delivery notification",
                     "rejected", "bounce", "unable to deliver", "mail system error", "delivery problem", "permanent error", "warning: could not",
                     "message not delivered", "系统退信", "退信", "failed delivery"]
        return words.contains { subject.contains($0) } || words.prefix(8).contains { text.lowercased().contains($0) }
    }

    static func isDelay(_ text: String) -> Bool {
        let lower = text.lowercased()
        return (lower.contains("will continue trying") || lower.contains("still trying") || lower.contains("has not yet been delivered")
                || lower.contains("will keep trying") || lower.contains("delivery delayed") || lower.contains("delivery has been delayed")
                || lower.contains("only a temporary failure")
                || lower.contains("delivery is delayed") || lower.contains("will retry") || lower.contains("not yet been delivered")
                || lower.contains("will be retried"))
            && !lower.contains("giving up") && !lower.contains("permanent")
    }

    /// The notice and the returned original that follows it inline: the original starts at
    /// its first block of header lines (two or more in a row, one of them `From:`,
    /// `Received:`, `Return-Path:` or `Message-ID:`, which a notice's own summary lines such
    /// as `Subject:`/`Date:` lack).
    static func splitReturnedOriginal(_ text: String) -> (notice: String, returned: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for index in lines.indices where startsOriginal(lines[index]) {
            var names: [String] = []
            var next = index
            while next < lines.count {
                if let name = headerName(of: lines[next]) { names.append(name) }
                else if !(lines[next].first == " " || lines[next].first == "\t") || names.isEmpty { break }   // folded lines continue
                next += 1
            }
            if names.count >= 2, names.contains(where: { ["from", "received", "return-path", "message-id"].contains($0) }) {
                return (lines[..<index].joined(separator: "\n"), lines[index...].joined(separator: "\n"))
            }
        }
        return (text, "")
    }

    /// The addresses a notice gives as recipients: not those on header lines of a returned
    /// original (`Reply-To:`, `Sender:`, `List-Post:`, `Message-ID:` …) nor on quoted lines.
    static func reportedAddresses(in notice: String) -> [String] {
        notice.split(separator: "\n").flatMap { line -> [String] in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix(">") && !trimmed.hasPrefix(">>>") { return [] }      // quoted, not a transcript's ">>> RCPT TO"
            if let name = headerName(of: line), name != "to" && !name.hasPrefix("x-") && !name.hasPrefix("original-") && !name.hasPrefix("final-") {
                if originalHeaders.contains(name) || name.hasPrefix("list-") || name.hasPrefix("resent-") { return [] }
            }
            return Address.all(in: String(line))
        }
    }

    /// The addresses on `name:` header lines of a returned original.
    static func headerAddresses(_ name: String, in returned: String) -> [String] {
        returned.split(separator: "\n").filter { headerName(of: $0) == name }.flatMap { Address.all(in: String($0)) }
    }

    static let originalHeaders: Set<String> = ["from", "sender", "reply-to", "errors-to", "return-path", "cc", "bcc", "message-id", "in-reply-to",
                                               "references", "received", "delivered-to", "envelope-to", "disposition-notification-to",
                                               "mail-followup-to", "mail-reply-to", "return-receipt-to", "dkim-signature", "authentication-results"]

    private static let originalStarts: Set<String> = ["received", "return-path", "from", "to", "subject", "date", "message-id", "mime-version",
                                                      "reply-to", "sender", "dkim-signature", "delivered-to", "authentication-results", "errors-to"]

    private static func startsOriginal(_ line: Substring) -> Bool {
        guard let name = headerName(of: line) else { return false }
        return originalStarts.contains(name) || name.hasPrefix("list-")
    }

    /// `Name` of a `Name: value` line, lowercased (no spaces in the name, at the line's start).
    static func headerName(of line: Substring) -> String? {
        guard let colon = line.firstIndex(of: ":"), colon > line.startIndex else { return nil }
        let name = line[..<colon]
        guard name.count < 40, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), name.first?.isLetter == true else { return nil }
        return name.lowercased()
    }

    /// The lines about `recipient` (the line naming it and those after it up to a blank
    /// line), or else the first lines carrying an SMTP reply.
    static func diagnostic(in text: String, near recipient: String?) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        if let recipient {
            for (index, line) in lines.enumerated() where line.lowercased().contains(recipient) {
                var block = [line]
                var next = index + 1
                while next < lines.count, next < index + 8 {
                    let candidate = lines[next]
                    if candidate.trimmingCharacters(in: " \t").isEmpty {
                        // A blank line ends the block, unless what came so far only leads in ("because:").
                        let soFar = block.joined(separator: " ")
                        if block.count > 1 && !soFar.hasSuffix(":") && (ReplyCode.find(in: soFar) != nil || block.count > 2) { break }
                        next += 1
                        continue
                    }
                    if next > index + 1, Address.first(in: candidate).map({ $0 != recipient && !candidate.contains("<\(recipient)>") }) == true,
                       ReplyCode.find(in: candidate) == nil, !candidate.hasPrefix(" ") { break }
                    block.append(candidate)
                    next += 1
                }
                let joined = block.joined(separator: " ").collapsedWhitespace
                // One line that says more than the address (`x@y [User unknown]`) is a diagnostic too.
                if ReplyCode.find(in: joined) != nil || StatusCode.find(in: joined) != nil || block.count > 1
                    || joined.replacing(recipient, with: "").filter({ $0.isLetter }).count > 6 { return joined }
            }
        }
        if let line = lines.first(where: { ReplyCode.find(in: $0) != nil && StatusCode.find(in: $0) != nil }) ?? lines.first(where: { ReplyCode.find(in: $0) != nil }) {
            return line.collapsedWhitespace
        }
        return nil
    }

    static func firstParagraph(_ text: String) -> String? {
        let paragraph = text.replacing("\r\n", with: "\n").split(separator: "\n\n").first.map { String($0).collapsedWhitespace }
        return paragraph?.isEmpty == false ? paragraph : nil
    }

    static func stripTags(_ html: String) -> String {
        var output = ""
        var inTag = false
        for c in html {
            if c == "<" { inTag = true; continue }
            if c == ">" { inTag = false; output.append(" "); continue }
            if !inTag { output.append(c) }
        }
        return output
    }
}

/// The returned original message: its Message-ID, recipient and Broadside headers.
struct OriginalMessage {
    var messageID: String?
    var recipient: String?
    var campaign: String?

    init(in message: MailMessage) {
        let candidates = message.allParts.dropFirst().filter {
            ["message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers"].contains($0.contentType)
        }
        var headers: [(name: String, value: String)] = []
        if let part = candidates.first {
            headers = part.parts.first?.headers ?? MailMessage.parseHeaders(Array(part.body.utf8))
        } else {
            // Inline copies: the headers after the notification text.
            let body = String((message.allParts.first { $0.parts.isEmpty && $0.contentType == "text/plain" }?.body ?? message.body).prefix(262_144))
            if let range = body.range(of: "\nMessage-I", options: .caseInsensitive) ?? body.range(of: "\nReturn-Path:", options: .caseInsensitive) {
                headers = MailMessage.parseHeaders(Array(body[range.lowerBound...].utf8).prefix(8192).map { $0 })
            }
        }
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        messageID = header("message-id").map { $0.trimmingCharacters(in: " \t<>") }
        recipient = header("to").flatMap(Address.first)
        campaign = header("x-broadside-campaign")
    }
}

extension String {
    func range(of needle: String, options: StringCompareOptions) -> Range<String.Index>? {
        if options.contains(.caseInsensitive) {
            let lower = self.lowercased()
            guard lower.count == self.count, let range = lower.range(of: needle.lowercased(), options: []) else { return nil }
            let start = index(startIndex, offsetBy: lower.distance(from: lower.startIndex, to: range.lowerBound))
            return start..<index(start, offsetBy: needle.count)
        }
        return self.firstRange(of: needle)
    }

    struct StringCompareOptions: OptionSet {
        let rawValue: Int
        static let caseInsensitive = StringCompareOptions(rawValue: 1)
    }
}
