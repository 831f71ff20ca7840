/// Why a text is not a mailbox SMTP will accept.
public enum AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case missingAt(String)
    case emptyLocalPart(String)
    case localPartTooLong(String)
    case badDots(String)
    case invalidCharacter(String, Character)
    case emptyDomain(String)
    case domainWithoutDot(String)
    case invalidDomain(String)

    public var description: String {
        switch self {
        case .empty: return "the address is empty"
        case .missingAt(let a): return "'\(a)' has no @"
        case .emptyLocalPart(let a): return "'\(a)' has nothing before the @"
        case .localPartTooLong(let a): return "'\(a)' has more than 64 octets before the @"
        case .badDots(let a): return "'\(a)' has a dot at the start or end of a part, or two dots in a row"
        case .invalidCharacter(let a, let c):
            let shown = c.unicodeScalars.first.map { $0.value < 0x20 || $0.value == 0x7F ? "U+\(String($0.value, radix: 16, uppercase: true))" : String(c) } ?? ""
            return "'\(a)' contains '\(shown)', which an address cannot hold"
        case .emptyDomain(let a): return "'\(a)' has no domain after the @"
        case .domainWithoutDot(let a): return "'\(a)' has a domain without a dot"
        case .invalidDomain(let a): return "'\(a)' has an invalid domain"
        }
    }
}
