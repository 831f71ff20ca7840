import Bounces
import Delivery
import Foundation
import Store
import Templates
import Yams

/// `broadside.yaml`: sending profiles and limits per recipient domain. Secrets never
/// live in it: a profile names the environment variable or the command that gives one.
public struct Configuration: Sendable, Decodable {
    public var profiles: [String: SendingProfile] = [:]
    /// Limits per recipient domain for every profile, e.g. `qq.com: [20/min, 1000/day]`.
    public var domainLimits: [String: RateList] = [:]
    /// When bounces and complaints suppress an address.
    public var suppression = SuppressionPolicy()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case profiles, suppression
        case domainLimits = "domain_limits"
    }

    /// `suppression: {hard_bounces: true, complaints: true, soft_bounces: 3, soft_window: 30d}`
    struct SuppressionSection: Decodable {
        var hardBounces: Bool?
        var complaints: Bool?
        var softBounces: Int?
        var softWindow: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case complaints
            case hardBounces = "hard_bounces", softBounces = "soft_bounces", softWindow = "soft_window"
        }
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        profiles = try container.decodeIfPresent([String: SendingProfile].self, forKey: .profiles) ?? [:]
        domainLimits = try container.decodeIfPresent([String: RateList].self, forKey: .domainLimits) ?? [:]
        if let section = try container.decodeIfPresent(SuppressionSection.self, forKey: .suppression) {
            if let value = section.hardBounces { suppression.hardBounces = value }
            if let value = section.complaints { suppression.complaints = value }
            if let value = section.softBounces { suppression.softBounces = max(1, value) }
            if let text = section.softWindow {
                guard let seconds = DurationText.seconds(text) else {
                    throw BroadsideError.input("suppression.soft_window must be a duration such as 30d, not '\(text)'")
                }
                suppression.softWindow = seconds
            }
        }
    }

    /// Reads the file at `path`.
    public static func load(path: String) throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw BroadsideError.input("\(path): cannot read the configuration file")
        }
        do {
            try checkKeys(text, path: path)
            return try YAMLDecoder().decode(Configuration.self, from: text)
        } catch let error as YamlError {
            throw BroadsideError.input("\(path): \(Self.describe(error))")
        } catch let error as BroadsideError {
            throw BroadsideError.input("\(path): \(error.message)")
        } catch let DecodingError.dataCorrupted(context), let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw BroadsideError.input("\(path): \(at.isEmpty ? "" : "\(at): ")\(context.debugDescription)")
        } catch {
            throw BroadsideError.input("\(path): \(error)")
        }
    }

    /// Every key the file may hold, by where it stands: a misspelt key (`conections`) is an
    /// error with its line and the key meant, not a setting silently ignored.
    static func checkKeys(_ text: String, path: String) throws {
        guard let root = try Yams.compose(yaml: text), case .mapping(let top) = root else { return }
        func check(_ mapping: Node.Mapping, allowed: [String], in section: String) throws {
            for (key, _) in mapping {
                guard let name = key.string, !allowed.contains(name) else { continue }
                let near = NearestName.nearest(name, among: allowed)
                throw BroadsideError.input("\(path):\(key.mark.map { "\($0.line):\($0.column)" } ?? ""): '\(name)' is not a key of \(section)\(near.map { "; did you mean '\($0)'?" } ?? "") (the keys: \(allowed.joined(separator: ", ")))")
            }
        }
        try check(top, allowed: CodingKeys.allCases.map(\.rawValue), in: "the configuration")
        if case .mapping(let profiles)? = top["profiles"] {
            for (name, profile) in profiles {
                if case .mapping(let keys) = profile {
                    try check(keys, allowed: SendingProfile.CodingKeys.allCases.map(\.rawValue), in: "profile '\(name.string ?? "")'")
                    if case .mapping(let oauth)? = keys["oauth"] {
                        try check(oauth, allowed: OAuthSection.keys, in: "profile '\(name.string ?? "")' oauth")
                    }
                    if case .sequence(let relays)? = keys["relays"] {
                        for case .mapping(let relay) in relays {
                            try check(relay, allowed: RelaySection.CodingKeys.allCases.map(\.rawValue), in: "a relay of profile '\(name.string ?? "")'")
                        }
                    }
                }
            }
        }
        if case .mapping(let keys)? = top["suppression"] {
            try check(keys, allowed: SuppressionSection.CodingKeys.allCases.map(\.rawValue), in: "suppression")
        }
    }

    /// A YAML syntax error as line:column and what is wrong.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return "\(mark.line):\(mark.column): \(problem)\(context.map { " \($0.text)" } ?? "")"
        default:
            return "\(error)"
        }
    }

    /// The settings profile `name` sends with: its preset, then the profile, with the domain limits.
    public func settings(profile name: String) throws -> CampaignSettings {
        var settings = CampaignSettings()
        settings.profile = name
        let profile = profiles[name]
        guard profile != nil || ProviderPreset.named(name) != nil else {
            let known = (profiles.keys.sorted() + ProviderPreset.all.map(\.name)).joined(separator: ", ")
            throw BroadsideError.input("there is no profile '\(name)' in the configuration and no such preset (known: \(known))")
        }
        if let preset = ProviderPreset.named(profile?.preset ?? name) {
            settings.smtp = preset.smtp
            settings.connections = preset.connections
            settings.rates = preset.rates
        } else if let presetName = profile?.preset {
            throw BroadsideError.input("profile '\(name)' names the preset '\(presetName)', which does not exist (presets: \(ProviderPreset.all.map(\.name).joined(separator: ", ")))")
        }
        if let profile { try profile.apply(to: &settings, name: name) }
        var domains = domainLimits.mapValues(\.rates)
        for (domain, limits) in profile?.domainLimits ?? [:] { domains[domain] = limits.rates }
        if !domains.isEmpty { settings.domainLimits = domains }
        return settings
    }
}

/// One rate (`20/min`) or several (`[20/min, 1000/day]`).
public struct RateList: Sendable, Decodable {
    public var rates: [String]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            rates = [one]
        } else {
            rates = try container.decode([String].self)
        }
        for rate in rates where RateLimit(parsing: rate) == nil {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(rate)' is not a rate such as 10/s, 600/min or 2000/day")
        }
    }
}

/// A sending profile as written in the configuration file.
public struct SendingProfile: Sendable, Decodable {
    public var preset: String?
    public var smtp: String?
    public var user: String?
    public var passwordEnv: String?
    public var passwordCommand: String?
    public var oauth2TokenEnv: String?
    public var oauth2TokenCommand: String?
    public var oauth2TokenLifetime: String?
    public var caFile: String?
    public var insecureSkipVerify: Bool?
    public var ehlo: String?
    public var connections: Int?
    public var messagesPerConnection: Int?
    public var rate: RateList?
    public var domainLimits: [String: RateList]?
    public var retryDelay: String?
    public var retryMaxDelay: String?
    public var giveUpAfter: String?
    public var replyTimeout: String?
    public var throttleCooldown: String?
    public var serverLostTimeout: String?
    public var senderSideFailuresBeforePause: Int?
    public var verpDomain: String?
    public var unsubscribeURL: String?
    public var unsubscribeMailto: String?
    public var dkimKeyFile: String?
    public var dkimSelector: String?
    public var dkimDomain: String?
    /// The mailbox bounces come back to: `imaps://host/INBOX`, its user, and where its password comes from.
    public var bounceMailbox: String?
    public var bounceUser: String?
    public var bouncePasswordEnv: String?
    public var bouncePasswordCommand: String?
    /// Where replies arrive, when not in the bounce mailbox (read with the bounce mailbox's sign-in).
    public var replyMailbox: String?
    /// Built-in OAuth 2 sign-in (`broadside auth login`).
    public var oauth: OAuthSection?
    /// Where a copy of each sent message is appended (`imaps://host/Sent`).
    public var sentFolder: String?
    /// `track: [clicks, opens]` and where `serve` answers from the internet.
    public var track: [String]?
    public var publicURL: String?
    /// Several relays sharing the campaign, each with its server, sign-in, connections, limits and weight.
    public var relays: [RelaySection]?
    /// Present only to be refused: a password never lives in a file.
    var password: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case preset, smtp, user, ehlo, connections, rate, password, relays
        case passwordEnv = "password_env", passwordCommand = "password_command"
        case oauth2TokenEnv = "oauth2_token_env", oauth2TokenCommand = "oauth2_token_command", oauth2TokenLifetime = "oauth2_token_lifetime"
        case caFile = "ca_file", insecureSkipVerify = "insecure_skip_verify"
        case messagesPerConnection = "messages_per_connection", domainLimits = "domain_limits"
        case retryDelay = "retry_delay", retryMaxDelay = "retry_max_delay", giveUpAfter = "give_up_after"
        case replyTimeout = "reply_timeout", throttleCooldown = "throttle_cooldown", serverLostTimeout = "server_lost_timeout"
        case senderSideFailuresBeforePause = "sender_side_failures_before_pause"
        case verpDomain = "verp_domain"
        case unsubscribeURL = "unsubscribe_url", unsubscribeMailto = "unsubscribe_mailto"
        case dkimKeyFile = "dkim_key_file", dkimSelector = "dkim_selector", dkimDomain = "dkim_domain"
        case bounceMailbox = "bounce_mailbox", bounceUser = "bounce_user", bouncePasswordEnv = "bounce_password_env"
        case bouncePasswordCommand = "bounce_password_command"
        case oauth, sentFolder = "sent_folder", track, publicURL = "public_url", replyMailbox = "reply_mailbox"
    }

    /// The profile reads or writes a mailbox over IMAP: its token must be allowed to.
    public var usesIMAP: Bool { bounceMailbox != nil || replyMailbox != nil || sentFolder != nil }

    func apply(to settings: inout CampaignSettings, name: String) throws {
        if password != nil {
            throw BroadsideError.input("profile '\(name)' holds a password; passwords never live in files: use password_env or password_command")
        }
        if let smtp { settings.smtp = smtp }
        if let user { settings.user = user }
        if let passwordEnv { settings.passwordEnv = passwordEnv }
        if let passwordCommand { settings.passwordCommand = passwordCommand }
        if let oauth2TokenEnv { settings.oauth2TokenEnv = oauth2TokenEnv }
        if let oauth2TokenCommand { settings.oauth2TokenCommand = oauth2TokenCommand }
        if let caFile { settings.caFile = caFile }
        if let insecureSkipVerify { settings.insecure = insecureSkipVerify }
        if let ehlo { settings.ehlo = ehlo }
        if let connections { settings.connections = connections }
        if let messagesPerConnection { settings.messagesPerConnection = messagesPerConnection }
        if let rate { settings.rates = rate.rates }
        if let senderSideFailuresBeforePause { settings.senderSideFailuresBeforePause = senderSideFailuresBeforePause }
        if let verpDomain { settings.verpDomain = verpDomain }
        if let unsubscribeURL { settings.unsubscribeURL = unsubscribeURL }
        if let unsubscribeMailto { settings.unsubscribeMailto = unsubscribeMailto }
        if let dkimKeyFile { settings.dkimKeyFile = dkimKeyFile }
        if let dkimSelector { settings.dkimSelector = dkimSelector }
        if let dkimDomain { settings.dkimDomain = dkimDomain }
        if let sentFolder { settings.sentFolder = sentFolder }
        if let track { settings.track = track.map { $0.lowercased() } }
        if let publicURL { settings.publicURL = publicURL }
        if let relays { settings.relays = try RelaySection.settings(relays, profile: name) }
        if let oauth {
            let settingsOAuth = try oauth.settings(profile: name, preset: preset ?? name)
            if let problem = settingsOAuth.problem(profile: name) { throw BroadsideError.input(problem) }
            settings.oauth = settingsOAuth
            settings.oauthIMAP = usesIMAP
        }
        func seconds(_ text: String?, _ key: String) throws -> Double? {
            guard let text else { return nil }
            guard let value = DurationText.seconds(text) else {
                throw BroadsideError.input("profile '\(name)': \(key) must be a duration such as 30s, 5m, 2h or 3d, not '\(text)'")
            }
            return value
        }
        settings.retryDelay = try seconds(retryDelay, "retry_delay") ?? settings.retryDelay
        settings.retryMaxDelay = try seconds(retryMaxDelay, "retry_max_delay") ?? settings.retryMaxDelay
        settings.giveUpAfter = try seconds(giveUpAfter, "give_up_after") ?? settings.giveUpAfter
        settings.replyTimeout = try seconds(replyTimeout, "reply_timeout") ?? settings.replyTimeout
        settings.oauth2TokenLifetime = try seconds(oauth2TokenLifetime, "oauth2_token_lifetime") ?? settings.oauth2TokenLifetime
        settings.throttleCooldown = try seconds(throttleCooldown, "throttle_cooldown") ?? settings.throttleCooldown
        settings.serverLostTimeout = try seconds(serverLostTimeout, "server_lost_timeout") ?? settings.serverLostTimeout
    }
}

/// One of a profile's `relays:` as written in the configuration file. What it leaves out
/// (the user, the password's variable, the CA file …) it takes from its profile.
public struct RelaySection: Sendable, Decodable {
    public var name: String
    public var smtp: String
    public var weight: Int?
    public var connections: Int?
    public var rate: RateList?
    public var domains: [String]?
    public var user: String?
    public var passwordEnv: String?
    public var passwordCommand: String?
    public var caFile: String?
    public var insecureSkipVerify: Bool?
    public var ehlo: String?
    public var messagesPerConnection: Int?
    /// Present only to be refused: a password never lives in a file.
    var password: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, smtp, weight, connections, rate, domains, user, ehlo, password
        case passwordEnv = "password_env", passwordCommand = "password_command"
        case caFile = "ca_file", insecureSkipVerify = "insecure_skip_verify", messagesPerConnection = "messages_per_connection"
    }

    /// The relays as a campaign keeps them, checked: names given once, weights and
    /// connections of at least one, and some relay for mail to any domain.
    static func settings(_ sections: [RelaySection], profile: String) throws -> [RelaySettings] {
        guard !sections.isEmpty else { throw BroadsideError.input("profile '\(profile)': relays is empty; name at least one relay, or give smtp instead") }
        var names: Set<String> = []
        var relays: [RelaySettings] = []
        for section in sections {
            let at = "profile '\(profile)' relay '\(section.name)'"
            guard !section.name.isEmpty, names.insert(section.name.lowercased()).inserted else {
                throw BroadsideError.input("profile '\(profile)': relay names must be given once each and not be empty ('\(section.name)')")
            }
            // Kept whole in every attempt's record (and the crash log's fixed-size slot).
            guard section.name.utf8.count <= 60, !section.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw BroadsideError.input("\(at): a relay's name is at most 60 bytes, without control characters")
            }
            if section.password != nil {
                throw BroadsideError.input("\(at) holds a password; passwords never live in files: use password_env or password_command")
            }
            if let weight = section.weight, weight < 1 { throw BroadsideError.input("\(at): weight must be 1 or more, not \(weight)") }
            if let connections = section.connections, connections < 1 {
                throw BroadsideError.input("\(at): connections must be 1 or more, not \(connections)")
            }
            var relay = RelaySettings(name: section.name, smtp: section.smtp)
            relay.weight = section.weight
            relay.connections = section.connections
            relay.rates = section.rate?.rates
            relay.domains = section.domains.map { $0.map { $0.lowercased() } }
            relay.user = section.user
            relay.passwordEnv = section.passwordEnv
            relay.passwordCommand = section.passwordCommand
            relay.caFile = section.caFile
            relay.insecure = section.insecureSkipVerify
            relay.ehlo = section.ehlo
            relay.messagesPerConnection = section.messagesPerConnection
            relays.append(relay)
        }
        guard relays.contains(where: { ($0.domains ?? []).isEmpty }) else {
            throw BroadsideError.input("profile '\(profile)': every relay names domains, so mail to any other domain has none; leave domains out of at least one relay")
        }
        return relays
    }
}

/// A profile's `oauth:` section as written in the configuration file: the provider and
/// flow (each implied when left out), and the application's registration.
public struct OAuthSection: Sendable, Decodable {
    public var provider: String?
    public var flow: String?
    public var registration: OAuthSettings.Registration
    /// Present only to be refused: a secret never lives in a file.
    var clientSecret: String?

    enum OwnKeys: String, CodingKey, CaseIterable {
        case provider, flow, clientSecret = "client_secret"
    }

    /// Every key the section may hold.
    static var keys: [String] { OwnKeys.allCases.map(\.rawValue) + OAuthSettings.Registration.CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: OwnKeys.self)
        provider = try container.decodeIfPresent(String.self, forKey: .provider)
        flow = try container.decodeIfPresent(String.self, forKey: .flow)
        clientSecret = try container.decodeIfPresent(String.self, forKey: .clientSecret)
        registration = try OAuthSettings.Registration(from: decoder)
    }

    /// The settings, with the provider the preset implies (Exchange and Outlook: Microsoft;
    /// Gmail and Workspace: Google) and the provider's usual flow.
    func settings(profile: String, preset: String) throws -> OAuthSettings {
        if clientSecret != nil {
            throw BroadsideError.input("profile '\(profile)' oauth holds a client secret; secrets never live in files: use client_secret_env or client_secret_command")
        }
        let implied: OAuthSettings.Provider? = switch preset.lowercased() {
        case "exchange-online", "outlook-com": .microsoft
        case "gmail", "google-workspace": .google
        default: nil
        }
        let provider: OAuthSettings.Provider
        if let name = self.provider {
            guard let named = OAuthSettings.Provider(rawValue: name.lowercased()) else {
                throw BroadsideError.input("profile '\(profile)' oauth: provider '\(name)' is not one of \(OAuthSettings.Provider.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            provider = named
        } else if let implied {
            provider = implied
        } else {
            throw BroadsideError.input("profile '\(profile)' oauth: say which provider signs in (provider: microsoft or google)")
        }
        let flow: OAuthSettings.Flow
        if let name = self.flow {
            guard let named = OAuthSettings.Flow(rawValue: name.lowercased()) else {
                throw BroadsideError.input("profile '\(profile)' oauth: flow '\(name)' is not one of \(OAuthSettings.Flow.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            flow = named
        } else {
            flow = provider == .microsoft ? .device : .browser
        }
        var settings = OAuthSettings(provider: provider, flow: flow)
        settings.registration = registration
        settings.certificateFile = registration.certificateFile.map(Self.absolute)
        settings.certificateKeyFile = registration.certificateKeyFile.map(Self.absolute)
        settings.serviceAccountFile = registration.serviceAccountFile.map(Self.absolute)
        return settings
    }

    /// Files named relative to where `broadside` runs are kept absolute: a resume may run elsewhere.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
