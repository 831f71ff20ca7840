/// A display name and an address, as in `From: Example News <news@example.com>`.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    public var address: EmailAddress

    public init(displayName: String? = nil, address: EmailAddress) {
        self.displayName = displayName.flatMap { $0.isEmpty ? nil : $0 }
        self.address = address
    }

    /// Parses `Name <local@domain>`, `"Name, Inc." <local@domain>` or a bare address.
    public init(parsing text: String) throws(AddressError) {
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let inner = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
            var name = String(trimmed[..<open]).trimmingWhitespace()
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast()).replacingEscapes()
            }
            self.init(displayName: name, address: try EmailAddress(parsing: String(inner)))
        } else {
            self.init(address: try EmailAddress(parsing: trimmed))
        }
    }

    public var description: String {
        guard let displayName else { return address.description }
        return "\(displayName) <\(address)>"
    }
}

extension String {
    fileprivate func replacingEscapes() -> String {
        var result = ""
        var escaped = false
        for c in self {
            if escaped { result.append(c); escaped = false } else if c == "\\" { escaped = true } else { result.append(c) }
        }
        return result
    }
}
