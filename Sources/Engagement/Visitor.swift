import Foundation

/// Who fetched a tracked link or an open image: a person, or a machine acting on the
/// message (a mail provider's image proxy, a security scanner, a link checker). Machines
/// are recorded and reported apart, never dropped. No IP address is kept, so the rules
/// use what the request says (its method and user agent) and when it came.
public enum Visitor: Sendable, Equatable {
    /// A person's mail program or browser, by family (`Chrome`, `Outlook`, …).
    case person(agent: String)
    /// A machine, by the rule that named it.
    case machine(rule: String)

    public var isMachine: Bool { if case .machine = self { return true } else { return false } }

    /// What is stored: the browser family or the rule's name.
    public var label: String {
        switch self {
        case .person(let agent): return agent
        case .machine(let rule): return rule
        }
    }
}

/// One request for a tracked address, as the rules see it.
public struct Visit: Sendable {
    public enum Kind: String, Sendable { case click, open }

    public var kind: Kind
    public var method: String
    public var userAgent: String
    /// Seconds since the server accepted the message (nil when not known).
    public var sinceAccepted: Double?
    /// Seconds since another link of the same message was fetched (nil when none was).
    public var sinceOtherLink: Double?

    public init(kind: Kind, method: String, userAgent: String, sinceAccepted: Double? = nil, sinceOtherLink: Double? = nil) {
        self.kind = kind
        self.method = method
        self.userAgent = userAgent
        self.sinceAccepted = sinceAccepted
        self.sinceOtherLink = sinceOtherLink
    }
}

/// The rules, in the order they are tried; the first that matches names the machine.
/// Each says where it comes from (README, "Opens and clicks": the same table).
public struct VisitorRule: Sendable {
    public var name: String
    public var source: String
    let matches: @Sendable (Visit, Agent) -> Bool

    /// Every rule. `lowered` is the user agent in lower case.
    public static let all: [VisitorRule] = [
        VisitorRule(name: "HEAD request", source: "RFC 9110 9.3.2: HEAD fetches headers only; link checkers and scanners use it, browsers following a link do not") { visit, _ in
            visit.method.uppercased() == "HEAD"
        },
        VisitorRule(name: "Google image proxy", source: "Gmail loads images through its proxy, user agent \"… (via ggpht.com GoogleImageProxy)\" (Google, \"Gmail image proxy\" announcement, 2013)") { _, lowered in
            lowered.contains("googleimageproxy")
        },
        VisitorRule(name: "Yahoo image proxy", source: "Yahoo Mail's proxy sends the user agent YahooMailProxy (Yahoo sender hub)") { _, lowered in
            lowered.contains("yahoomailproxy")
        },
        VisitorRule(name: "mail image proxy", source: "other providers' proxies name themselves ImageProxy or MailProxy in the user agent") { _, lowered in
            lowered.contains("imageproxy") || lowered.contains("mailproxy")
        },
        VisitorRule(name: "Apple Mail Privacy Protection", source: "Apple Mail Privacy Protection preloads remote content through Apple's relays with the bare user agent \"Mozilla/5.0\" (Apple, \"Mail Privacy Protection\"; Litmus, \"Apple MPP\")") { visit, _ in
            visit.userAgent.trimmingCharacters(in: .whitespaces) == "Mozilla/5.0"
        },
        VisitorRule(name: "link preview or crawler", source: "robots name themselves: bot, crawler, spider, facebookexternalhit, Slackbot-LinkExpanding (each vendor's robot documentation)") { _, lowered in
            ["bot", "crawler", "spider", "facebookexternalhit", "linkpreview"].contains { lowered.contains($0) }
        },
        VisitorRule(name: "security scanner", source: "mail security gateways that follow links before delivery name themselves: Barracuda, Mimecast, Proofpoint, Trend Micro, Microsoft Safe Links (vendors' documentation)") { _, lowered in
            ["barracuda", "mimecast", "proofpoint", "trendmicro", "trend micro", "safelinks", "forcepoint", "sophos"].contains { lowered.contains($0) }
        },
        VisitorRule(name: "program, not a browser", source: "HTTP libraries' default user agents: curl, Wget, python-requests, Go-http-client, Java, okhttp, libwww-perl") { _, lowered in
            lowered.isEmpty || ["curl/", "wget/", "python-requests", "python-urllib", "go-http-client", "java/", "okhttp", "libwww-perl", "axios/"].contains { lowered.contains($0) }
        },
        VisitorRule(name: "clicked within seconds of delivery", source: "scanners follow every link as the message arrives; a person does not read and click within 10 s of delivery (observed by GMass, Mailchimp's bot-click filtering)") { visit, _ in
            visit.kind == .click && (visit.sinceAccepted.map { $0 < 10 } ?? false)
        },
        VisitorRule(name: "every link at once", source: "a scanner fetches all of a message's links within a second or two; a person clicks one") { visit, _ in
            visit.kind == .click && (visit.sinceOtherLink.map { $0 < 2 } ?? false)
        },
    ]

    public init(name: String, source: String, matches: @escaping @Sendable (Visit, Agent) -> Bool) {
        self.name = name
        self.source = source
        self.matches = matches
    }

    /// The visitor a request comes from.
    public static func classify(_ visit: Visit) -> Visitor {
        let lowered = Agent(visit.userAgent)
        if let rule = all.first(where: { $0.matches(visit, lowered) }) { return .machine(rule: rule.name) }
        return .person(agent: family(lowered))
    }

    /// A user agent in ASCII lower case, searched as bytes (`serve` classifies every request).
    public struct Agent: Sendable {
        let bytes: [UInt8]

        init(_ text: String) {
            bytes = text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        }

        var isEmpty: Bool { bytes.allSatisfy { $0 == 0x20 } }

        func contains(_ needle: String) -> Bool {
            let pattern = Array(needle.utf8)
            guard !pattern.isEmpty, bytes.count >= pattern.count else { return pattern.isEmpty }
            var start = 0
            while start <= bytes.count - pattern.count {
                if bytes[start] == pattern[0], bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
                start += 1
            }
            return false
        }
    }

    /// A person's program by family only (the full user agent is not kept).
    static func family(_ lowered: Agent) -> String {
        let families: [(String, String)] = [
            ("outlook", "Outlook"), ("thunderbird", "Thunderbird"), ("edg/", "Edge"), ("opr/", "Opera"), ("firefox", "Firefox"),
            ("chrome", "Chrome"), ("crios", "Chrome"), ("applewebkit", "Safari or Apple Mail"),
        ]
        return families.first { lowered.contains($0.0) }?.1 ?? "other"
    }
}
