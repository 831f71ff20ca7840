import Delivery
import Engine
import Foundation

/// What a campaign was started with, kept in its row so that `resume` sends the same
/// way. Never a secret: a password or token stays in the environment variable or the
/// command it names.
public struct CampaignSettings: Sendable, Codable, Equatable {
    /// The profile of the configuration file it was sent with, if any.
    public var profile: String?
    /// `smtp://host:port` or `smtps://…`; nil with an outbox.
    public var smtp: String?
    /// `--dry-run`: the folder the messages are written to instead.
    public var outbox: String?
    public var user: String?
    /// The environment variable holding the password.
    public var passwordEnv: String?
    /// A command that prints the password (a keychain, a secrets manager).
    public var passwordCommand: String?
    /// The environment variable holding an OAuth 2 bearer token (XOAUTH2).
    public var oauth2TokenEnv: String?
    /// A command that prints an OAuth 2 bearer token (run again when the token expires).
    public var oauth2TokenCommand: String?
    /// Seconds a bare token printed by the command lives (JSON output says its own `expires_in`).
    public var oauth2TokenLifetime: Double?
    /// Built-in OAuth 2 sign-in (the profile's `oauth:` section); tokens in the profile's token file.
    public var oauth: OAuthSettings?
    /// The profile reads bounces or keeps a Sent copy: its OAuth sign-in asks for IMAP too.
    public var oauthIMAP: Bool?
    /// `imaps://host/Sent`: a copy of each accepted message is appended there.
    public var sentFolder: String?
    /// The fingerprint of the BROADSIDE_SECRET its links and return paths are signed with
    /// (`SecretFingerprint`, never the secret): `serve` and `resume` check theirs against it.
    public var secretFingerprint: String?

    /// Several relays sharing the campaign (a profile's `relays:`); nil: the one server in `smtp`.
    public var relays: [RelaySettings]?

    /// What is tracked (`clicks`, `opens`), through `serve` at `publicURL`.
    public var track: [String]?
    /// Where `serve` answers from the internet: `https://news.example.com` (tracked links go to `/c/…`).
    public var publicURL: String?

    /// The campaign signs unsubscribe links, return paths or tracked links with the secret.
    public var usesSecret: Bool { unsubscribeURL != nil || unsubscribeMailto != nil || verpDomain != nil || !(track ?? []).isEmpty }
    public var caFile: String?
    public var insecure: Bool?
    /// Each message's return path becomes `bounce+…@verpDomain`, signed with $BROADSIDE_SECRET.
    public var verpDomain: String?
    /// `https://example.com/u/` (one-click, RFC 8058) and/or a mailto address for List-Unsubscribe.
    public var unsubscribeURL: String?
    public var unsubscribeMailto: String?
    /// DKIM: the PEM private key's file, the selector, the signing domain (default: the From domain).
    public var dkimKeyFile: String?
    public var dkimSelector: String?
    public var dkimDomain: String?
    /// A folder per-recipient attachments may come from besides the template's own.
    public var attachmentsRoot: String?
    public var ehlo: String?
    public var connections: Int = 4
    public var messagesPerConnection: Int?
    /// Limits on the whole profile: `20/s`, `30/min`, `2000/day` — all at once.
    public var rates: [String]?
    /// Limits per recipient domain (`gmail.com`, `qq.com`), each a list like `rates`.
    public var domainLimits: [String: [String]]?
    /// Seconds: first retry delay, the longest delay, when to give up.
    public var retryDelay: Double?
    public var retryMaxDelay: Double?
    public var giveUpAfter: Double?
    public var replyTimeout: Double?
    public var throttleCooldown: Double?
    public var serverLostTimeout: Double?
    public var senderSideFailuresBeforePause: Int?

    public init() {}

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(CampaignSettings.self, from: Data(json.utf8))
    }

    /// These settings (a profile's) laid over `stored` (a campaign's): what the profile says
    /// wins, and what it does not say (the campaign's unsubscribe link, VERP domain, DKIM
    /// key, attachments folder …) is kept, so that a resume through another relay sends the
    /// rest of the campaign the way it started.
    public func laid(over stored: CampaignSettings) throws -> CampaignSettings {
        let encoder = JSONEncoder()
        guard var merged = try JSONSerialization.jsonObject(with: encoder.encode(stored)) as? [String: Any],
              let mine = try JSONSerialization.jsonObject(with: encoder.encode(self)) as? [String: Any] else { return self }
        for (key, value) in mine where !(value is NSNull) { merged[key] = value }
        return try JSONDecoder().decode(CampaignSettings.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// What daily caps count by: the profile's name, else the server it sends to.
    public var profileKey: String { profile ?? smtp ?? outbox.map { "outbox:\($0)" } ?? "" }

    /// How the engine runs with these settings.
    public var sendOptions: SendOptions {
        var options = SendOptions()
        options.connections = connections
        options.profileKey = profileKey
        options.rates = (rates ?? []).compactMap(RateLimit.init(parsing:))
        options.domainLimits = (domainLimits ?? [:]).mapValues { $0.compactMap(RateLimit.init(parsing:)) }
        let defaults = RetryPolicy()
        options.retry = RetryPolicy(firstDelay: retryDelay ?? defaults.firstDelay, maximumDelay: retryMaxDelay ?? defaults.maximumDelay,
                                    giveUpAfter: giveUpAfter ?? defaults.giveUpAfter)
        if let throttleCooldown { options.health.throttleCooldown = throttleCooldown }
        if let serverLostTimeout { options.health.serverLostTimeout = serverLostTimeout }
        if let senderSideFailuresBeforePause { options.health.senderSideFailuresBeforePause = senderSideFailuresBeforePause }
        return options
    }
}

/// One relay of a campaign that has several: its server and what it does not take from
/// the campaign (its own sign-in, connections, limits), its weight and the domains kept for it.
public struct RelaySettings: Sendable, Codable, Equatable {
    public var name: String
    public var smtp: String
    public var weight: Int?
    public var connections: Int?
    public var rates: [String]?
    public var domains: [String]?
    public var user: String?
    public var passwordEnv: String?
    public var passwordCommand: String?
    public var caFile: String?
    public var insecure: Bool?
    public var ehlo: String?
    public var messagesPerConnection: Int?

    public init(name: String, smtp: String) {
        self.name = name
        self.smtp = smtp
    }

    /// The campaign's settings as this relay sends them: its server, and its own sign-in,
    /// certificate and connection settings where it has them.
    public func applied(to campaign: CampaignSettings) -> CampaignSettings {
        var settings = campaign
        settings.relays = nil
        settings.smtp = smtp
        if let user {
            // Its own user signs in with its own secret, never the campaign's.
            settings.user = user
            settings.passwordEnv = passwordEnv
            settings.passwordCommand = passwordCommand
            settings.oauth = nil
            settings.oauth2TokenEnv = nil
            settings.oauth2TokenCommand = nil
        } else if passwordEnv != nil || passwordCommand != nil {
            settings.passwordEnv = passwordEnv
            settings.passwordCommand = passwordCommand
        }
        if let caFile { settings.caFile = caFile }
        if let insecure { settings.insecure = insecure }
        if let ehlo { settings.ehlo = ehlo }
        if let messagesPerConnection { settings.messagesPerConnection = messagesPerConnection }
        settings.connections = connections ?? campaign.connections
        return settings
    }
}

/// `30s`, `5m`, `2h`, `3d` or plain seconds.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("min", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where trimmed.hasSuffix(suffix) {
            return Double(trimmed.dropLast(suffix.count)).map { $0 * scale }.flatMap { $0 >= 0 ? $0 : nil }
        }
        return Double(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Seconds in words in the report's language: `1 day`/`1 天`, `5 minutes`/`5 分钟`.
    public static func describe(_ seconds: Double, language: ReportLanguage) -> String {
        guard language == .chinese else { return seconds >= 86_400 && seconds.truncatingRemainder(dividingBy: 86_400) == 0
            ? "\(Int(seconds / 86_400)) day\(seconds == 86_400 ? "" : "s")" : describe(seconds) }
        if seconds >= 86_400, seconds.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(seconds / 86_400)) 天" }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600)) 小时" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) 分钟" }
        return "\(Int(seconds)) 秒"
    }

    /// Seconds in words: `24 hours`, `1 hour`, `30 minutes`, `45 seconds`.
    public static func describe(_ seconds: Double) -> String {
        func plural(_ n: Int, _ unit: String) -> String { "\(n) \(unit)\(n == 1 ? "" : "s")" }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return plural(Int(seconds / 3600), "hour") }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return plural(Int(seconds / 60), "minute") }
        return plural(Int(seconds), "second")
    }
}
