import ArgumentParser
import Broadside
import Foundation
import Transport

/// `broadside auth login|status|logout`: the built-in OAuth 2 sign-in of a profile.
struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Sign a profile in with OAuth 2 (Exchange Online, Gmail), show its sign-in, or sign it out.",
        subcommands: [Login.self, Status.self, Logout.self])

    /// The profile's OAuth settings, or a clear error when it has none.
    static func oauthProfile(_ name: String, global: GlobalOptions) throws -> (settings: CampaignSettings, oauth: OAuthSettings) {
        let settings = try global.configuration().settings(profile: name)
        guard let oauth = settings.oauth else {
            throw BroadsideError.input("profile '\(name)' has no oauth section; add one (provider, flow, client_id) to sign in with OAuth 2 (README, \"Signing in with OAuth 2\")")
        }
        return (settings, oauth)
    }

    struct Login: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign in: a person once (device code or browser), or check that an application can.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The profile to sign in.") var profile: String
        @Option(help: "How long to wait for the person to sign in (default 15m).") var wait: String?

        func run() throws {
            let (settings, oauth) = try AuthCommand.oauthProfile(profile, global: global)
            let environment = ProcessInfo.processInfo.environment
            let credentials = try TransportSetup.oauthCredentials(oauth, settings: settings, environment: environment)
            var signIn = OAuthSignIn(profile: profile, grants: credentials.grants, file: credentials.file) { Output.note($0) }
            if let wait {
                guard let seconds = DurationText.seconds(wait) else { throw BroadsideError.input("--wait must be a duration such as 5m, not '\(wait)'") }
                signIn.patience = seconds
            }
            let tokens = try signIn.run()
            Output.line("Signed in profile '\(profile)' as \(tokens.account ?? credentials.user) (\(oauth.provider.rawValue), \(oauth.flow.rawValue)); tokens in \(credentials.file.url.path), readable by you only")
            if let account = tokens.account, account.lowercased() != credentials.user.lowercased() {
                Output.note("note: the account signed in is \(account), the profile sends as \(credentials.user): the mailbox must allow it (Send As), or the server refuses the sign-in")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each OAuth profile's account, scopes and when its access token expires.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "One profile (default: every profile with an oauth section).") var profile: String?
        @Flag(help: "Print JSON.") var json = false

        struct Entry: Encodable {
            var profile: String
            var provider: String
            var flow: String
            var signed_in: Bool
            var account: String?
            var scopes: [String]
            var refresh_token: Bool
            var access_token_expires_at: String?
            var token_file: String
        }

        func run() throws {
            let configuration = try global.configuration()
            let names = profile.map { [$0] } ?? configuration.profiles.filter { $0.value.oauth != nil }.keys.sorted()
            if names.isEmpty { throw BroadsideError.input("no profile in the configuration has an oauth section") }
            let environment = ProcessInfo.processInfo.environment
            var entries: [Entry] = []
            for name in names {
                let (settings, oauth) = try AuthCommand.oauthProfile(name, global: global)
                let file = try TokenFile(profile: name, environment: environment)
                let tokens = try file.read()
                entries.append(Entry(profile: name, provider: oauth.provider.rawValue, flow: oauth.flow.rawValue,
                                     signed_in: tokens != nil && (!oauth.flow.signsInAPerson || tokens?.refreshToken != nil),
                                     account: tokens?.account ?? settings.user, scopes: tokens?.scopes ?? oauth.scopes(imap: settings.oauthIMAP ?? false),
                                     refresh_token: tokens?.refreshToken != nil,
                                     access_token_expires_at: tokens?.expiresAt.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) },
                                     token_file: file.url.path))
            }
            if json { return try Output.json(entries) }
            let now = Date().timeIntervalSince1970
            for entry in entries {
                Output.line("\(entry.profile): \(entry.provider), \(entry.flow)")
                if !entry.signed_in, OAuthSettings.Flow(rawValue: entry.flow)?.signsInAPerson == true {
                    Output.line("  not signed in: broadside auth login --profile \(entry.profile)")
                    continue
                }
                Output.line("  account: \(entry.account ?? "-")")
                Output.line("  scopes: \(entry.scopes.joined(separator: " "))")
                let expires = try TokenFile(profile: entry.profile, environment: environment).read()?.expiresAt
                if let expires {
                    let left = expires - now
                    Output.line("  access token: \(left > 0 ? "expires in \(DurationText.describe((left / 60).rounded(.up) * 60))" : "expired (renewed by the next send)") (\(entry.access_token_expires_at ?? ""))")
                } else {
                    Output.line("  access token: none yet (one is fetched by the next send)")
                }
                if OAuthSettings.Flow(rawValue: entry.flow)?.signsInAPerson == true {
                    Output.line("  refresh token: kept in \(entry.token_file)")
                }
            }
        }
    }

    struct Logout: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a profile's tokens (and revoke them where the provider allows).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The profile to sign out.") var profile: String

        func run() throws {
            let (_, oauth) = try AuthCommand.oauthProfile(profile, global: global)
            let file = try TokenFile(profile: profile, environment: ProcessInfo.processInfo.environment)
            let tokens = (try? file.read()) ?? nil
            var revoked = false
            if let revoke = oauth.endpoints.revoke, let token = tokens?.refreshToken ?? tokens?.accessToken {
                // Google revokes the grant itself; a failure here still removes the file.
                revoked = (try? HTTPForm.post(revoke, fields: [("token", token)]).status) == 200
            }
            guard try file.remove() else {
                Output.line("Profile '\(profile)' was not signed in (no \(file.url.path))")
                return
            }
            Output.line("Signed out profile '\(profile)': removed \(file.url.path)")
            if revoked {
                Output.line("The provider revoked the sign-in as well")
            } else if oauth.provider == .microsoft, oauth.flow.signsInAPerson {
                Output.line("Microsoft has no endpoint that revokes one sign-in: the refresh token ends when it expires, or revoke the user's sessions in Entra ID")
            }
        }
    }
}
