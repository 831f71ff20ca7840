import Foundation

/// The messages a message answers: the Message-IDs in its `In-Reply-To` and `References`
/// headers (RFC 5322 section 3.6.4), without angle brackets: In-Reply-To first.
public enum ReplyReference {
    public static func ids(in message: MailMessage) -> [String] {
        var ids: [String] = []
        for header in ["In-Reply-To", "References"] {
            for value in message.headers(header) {
                var rest = Substring(value)
                while let open = rest.firstIndex(of: "<") {
                    let after = rest.index(after: open)
                    guard let close = rest[after...].firstIndex(of: ">") else { break }
                    let id = rest[after..<close].trimmingCharacters(in: .whitespaces)
                    if !id.isEmpty, !ids.contains(id) { ids.append(id) }
                    rest = rest[rest.index(after: close)...]
                }
            }
        }
        return ids
    }
}
