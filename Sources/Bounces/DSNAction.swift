/// The `Action` of a delivery status (RFC 3464 §2.3.3) as MTAs really write it:
/// `failure`, `error`, `failed (bad destination mailbox address)` and `expired` all say
/// failed; `delivery delayed` and `delayed (will keep trying)` say delayed. A delay
/// warning is never read as a failure.
enum DSNAction {
    static func normalized(_ raw: String?) -> String? {
        guard let word = raw?.lowercased().trimmingCharacters(in: " \t\r\n"), !word.isEmpty else { return nil }
        if word.contains("delay") || word.contains("keep trying") || word.contains("will retry") || word.contains("retrying") {
            return "delayed"
        }
        for kept in ["delivered", "relayed", "expanded"] where word.hasPrefix(kept) { return kept }
        if ["fail", "error", "expire", "bounce", "undeliver", "reject", "permanent"].contains(where: { word.hasPrefix($0) }) {
            return "failed"
        }
        return word
    }

    /// `Action: expired` (written by some services): the MTA stopped retrying.
    static func saysExpired(_ raw: String?) -> Bool {
        raw?.lowercased().trimmingCharacters(in: " \t\r\n").hasPrefix("expire") == true
    }
}
