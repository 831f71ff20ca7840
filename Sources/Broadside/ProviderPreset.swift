/// What the big providers document about sending through them: server, security and
/// limits. A profile names a preset and overrides what it needs. Sources are in the README.
public struct ProviderPreset: Sendable {
    public var name: String
    public var smtp: String
    public var connections: Int
    public var rates: [String]
    public var note: String

    public static let all: [ProviderPreset] = [
        ProviderPreset(name: "gmail", smtp: "smtps://smtp.gmail.com:465", connections: 2, rates: ["20/min", "500/day"],
                       note: "personal Gmail: 500 messages a day over a rolling 24 hours; an app password"),
        ProviderPreset(name: "google-workspace", smtp: "smtps://smtp.gmail.com:465", connections: 3, rates: ["60/min", "2000/day"],
                       note: "Google Workspace: 2,000 messages a day per user over a rolling 24 hours"),
        ProviderPreset(name: "outlook-com", smtp: "smtp://smtp-mail.outlook.com:587", connections: 1, rates: ["30/min", "300/day"],
                       note: "Outlook.com: 300 recipients a day; STARTTLS"),
        ProviderPreset(name: "exchange-online", smtp: "smtp://smtp.office365.com:587", connections: 3, rates: ["30/min", "10000/day"],
                       note: "Exchange Online: 30 messages a minute, 10,000 recipients a day per mailbox; STARTTLS"),
        ProviderPreset(name: "netease-163", smtp: "smtps://smtp.163.com:465", connections: 1, rates: ["10/min", "200/day"],
                       note: "NetEase 163: limits are not published; conservative values; an authorization code as password"),
        ProviderPreset(name: "netease-126", smtp: "smtps://smtp.126.com:465", connections: 1, rates: ["10/min", "200/day"],
                       note: "NetEase 126: as 163"),
        ProviderPreset(name: "qq", smtp: "smtps://smtp.qq.com:465", connections: 1, rates: ["10/min", "500/day"],
                       note: "QQ Mail: limits are not published; conservative values; an authorization code as password"),
        ProviderPreset(name: "amazon-ses", smtp: "smtp://email-smtp.us-east-1.amazonaws.com:587", connections: 4, rates: ["1/s", "200/day"],
                       note: "Amazon SES sandbox: 1 message a second, 200 a day; raise both to your account's quota; SMTP credentials"),
    ]

    public static func named(_ name: String) -> ProviderPreset? {
        all.first { $0.name == name.lowercased() }
    }
}
