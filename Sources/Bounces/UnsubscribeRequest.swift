/// An unsubscribe request that arrived by mail. The mailto link of `List-Unsubscribe`
/// puts the token in the subject (`unsubscribe TOKEN`); a tagged address
/// (`unsubscribe+TOKEN@…`) carries it in the recipient. The token is `C.M.TAG`.
public enum UnsubscribeRequest {
    /// The token the message carries, not yet verified; nil when it is no unsubscribe request.
    public static func token(in message: MailMessage) -> String? {
        let subject = (message.header("Subject") ?? "").lowercased()
        if let word = subject.range(of: "unsubscribe") {
            let rest = subject[word.upperBound...].drop { $0 == " " || $0 == ":" }
            if let token = leadingToken(rest) { return token }
        }
        for name in ["Delivered-To", "X-Original-To", "To"] {
            for value in message.headers(name) {
                // Not to be confused with a VERP return path (bounce+C.M.TAG@…).
                var rest = Substring(value.lowercased())
                while let tag = rest.range(of: "unsubscribe+") {
                    rest = rest[tag.upperBound...]
                    if let token = leadingToken(rest), rest.dropFirst(token.count).first == "@" { return token }
                }
            }
        }
        return nil
    }

    /// `digits.digits.hex` (a 16-digit tag) at the start of `text`.
    static func leadingToken(_ text: Substring) -> String? {
        let candidate = text.prefix { $0.isASCII && ($0.isHexDigit || $0 == ".") }
        let parts = candidate.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].allSatisfy(\.isNumber), parts[1].allSatisfy(\.isNumber),
              !parts[0].isEmpty, !parts[1].isEmpty, parts[2].count == 16 else { return nil }
        return String(candidate)
    }
}
