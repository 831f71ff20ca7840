import Delivery
import Engine
import Foundation
import Transport

/// Builds the transport a campaign's settings ask for. A secret is read from the
/// environment variable or the command the settings name, when it is needed, and
/// kept in memory only.
public enum TransportSetup {
    public static func make(_ settings: CampaignSettings, environment: [String: String]) throws -> any MessageTransport {
        if let outbox = settings.outbox {
            return OutboxTransport(directory: URL(fileURLWithPath: outbox))
        }
        guard let url = settings.smtp else {
            throw BroadsideError.input("no SMTP server: give --smtp smtp://host:port (or --dry-run to write .eml files instead)")
        }
        var server: SMTPServer
        do {
            server = try SMTPServer(url: url)
        } catch {
            throw BroadsideError.input(error.message)
        }
        if let oauth = settings.oauth {
            server.credentialSource = try oauthCredentials(oauth, settings: settings, environment: environment)
        } else if let user = settings.user {
            if settings.oauth2TokenEnv == nil, let command = settings.oauth2TokenCommand {
                // Asked for by each new connection, and run again when the token it gave expires.
                server.credentialSource = TokenCommandCredentials(user: user, command: command, lifetime: settings.oauth2TokenLifetime ?? 3000,
                                                                  environment: environment)
            } else if let token = try secret(variable: settings.oauth2TokenEnv, command: nil, what: "OAuth 2 token", environment: environment) {
                server.credentials = .oauth2(user: user, bearerToken: token)
            } else if let password = try secret(variable: settings.passwordEnv, command: settings.passwordCommand, what: "password", environment: environment) {
                server.credentials = .password(user: user, password: password)
            } else {
                throw BroadsideError.input("--user \(user) needs --password-env VARIABLE or --password-command COMMAND (or an OAuth 2 token: --oauth2-token-env)")
            }
        }
        server.caFile = settings.caFile
        server.insecureSkipVerify = settings.insecure ?? false
        server.ehloName = settings.ehlo
        if let replyTimeout = settings.replyTimeout { server.replyTimeout = replyTimeout }
        if let messages = settings.messagesPerConnection { server.messagesPerConnection = max(1, messages) }
        return SMTPTransport(server: server)
    }

    /// The profile's built-in OAuth 2 sign-in: tokens from its token file, renewed as they expire.
    public static func oauthCredentials(_ oauth: OAuthSettings, settings: CampaignSettings, environment: [String: String]) throws -> OAuthCredentials {
        guard let profile = settings.profile else {
            throw BroadsideError.input("an OAuth sign-in belongs to a profile: send with --profile")
        }
        guard let user = settings.user else {
            throw BroadsideError.input("profile '\(profile)' signs in with OAuth 2 but names no user (the mailbox to send as)")
        }
        let grants = OAuthGrants(settings: oauth, user: user, imap: settings.oauthIMAP ?? false, environment: environment)
        return OAuthCredentials(profile: profile, user: user, grants: grants, file: try TokenFile(profile: profile, environment: environment))
    }

    /// The Sent folder's IMAP account: the sender's own sign-in (the same OAuth 2 tokens as
    /// the SMTP connections, or the same user and password).
    public static func sentFolderAccount(_ folder: String, settings: CampaignSettings, transport: any MessageTransport,
                                         environment: [String: String]) throws -> IMAPMailbox.Account {
        guard let user = settings.user else {
            throw BroadsideError.input("--save-sent signs in to the folder as the sender: give --user (and its password or OAuth 2 sign-in)")
        }
        var account: IMAPMailbox.Account
        if let source = (transport as? SMTPTransport)?.server.credentialSource {
            account = IMAPMailbox.Account(url: folder, user: user, credentialSource: source)
        } else if let password = try secret(variable: settings.passwordEnv, command: settings.passwordCommand, what: "password", environment: environment) {
            account = IMAPMailbox.Account(url: folder, user: user, password: password)
        } else {
            throw BroadsideError.input("--save-sent needs the sender's password (--password-env or --password-command) or an OAuth 2 sign-in")
        }
        account.caFile = settings.caFile
        account.insecureSkipVerify = settings.insecure ?? false
        return account
    }

    /// The secret from the environment variable, else from the command's output; nil if neither is named.
    public static func secret(variable: String?, command: String?, what: String, environment: [String: String]) throws -> String? {
        if let variable {
            guard let value = environment[variable], !value.isEmpty else {
                throw BroadsideError.input("the environment variable \(variable) is not set; export it with the \(what) (it is never stored)")
            }
            return value
        }
        guard let command else { return nil }
        return try run(command, what: what)
    }

    /// A secret command's output (its standard output, trimmed of the final line break).
    static func run(_ command: String, what: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw BroadsideError.environment("cannot run the \(what) command: \(error.localizedDescription)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BroadsideError.environment("the \(what) command exited with \(process.terminationStatus)")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard !value.isEmpty else { throw BroadsideError.environment("the \(what) command printed nothing") }
        return value
    }
}

extension TransportSetup {
    /// The relays a campaign's settings name: each of a profile's `relays:` with a transport
    /// of its own, or the campaign's one server (or outbox).
    public static func relays(_ settings: CampaignSettings, environment: [String: String]) throws -> [Relay] {
        guard let configured = settings.relays, settings.outbox == nil else {
            return [Relay(name: nil, transport: try make(settings, environment: environment), connections: settings.connections)]
        }
        return try configured.map { relaySettings in
            let own = relaySettings.applied(to: settings)
            var relay: Relay
            do {
                relay = Relay(name: relaySettings.name, transport: try make(own, environment: environment), connections: own.connections)
            } catch let error as BroadsideError {
                throw BroadsideError(error.kind, "relay '\(relaySettings.name)': \(error.message)")
            }
            relay.weight = relaySettings.weight ?? 1
            relay.domains = relaySettings.domains ?? []
            relay.rates = (relaySettings.rates ?? []).compactMap(RateLimit.init(parsing:))
            return relay
        }
    }

    /// Connects to each relay and signs in once, before anything changes state. One server
    /// that fails stops the run (exit 3); of several, one that fails starts out of rotation,
    /// with why (`Relay.outAtStart`): left out for the run when its sign-in or its TLS is
    /// refused (a setting to fix), probed again when it was not reached. Only all of them
    /// failing stops the run, naming each.
    public static func check(_ relays: inout [Relay]) throws {
        if relays.count == 1 {
            try relays[0].transport.verify()
            return
        }
        var problems: [String] = []
        for index in relays.indices {
            do {
                try relays[index].transport.verify()
            } catch {
                switch error.kind {
                case .signInRefused: relays[index].outAtStart = .signInRequired(reply: error.reply?.text ?? error.message)
                case .tls: relays[index].outAtStart = .tlsRefused(error.message)
                case .unreachable, .other: relays[index].outAtStart = .cannotConnect(error.message)
                }
                problems.append("relay '\(relays[index].label)': \(error.message)")
            }
        }
        if problems.count == relays.count {
            throw BroadsideError.environment("no relay can be used: \(problems.joined(separator: "; "))")
        }
    }
}
