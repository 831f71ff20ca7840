import ArgumentParser
import Broadside
import Foundation
import Server
import Signing
import Store

/// `broadside serve`: the landing place of the unsubscribe links, and the dashboard.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve one-click unsubscribe (RFC 8058) and a read-only dashboard of the campaigns.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Where to listen, HOST:PORT.")
    var listen = "127.0.0.1:8025"

    @Option(help: "The public URL this server is reached at; campaigns' --unsubscribe-url is this followed by /u/.")
    var publicURL: String?

    @Option(help: "The environment variable holding a token the dashboard asks for (Authorization: Bearer, or ?token=).")
    var accessTokenEnv: String?

    @Flag(name: .customLong("trust-loopback"), help: "Nothing (no proxy) stands between this loopback listener and its users: the dashboard answers without a token, except requests that came through a proxy.")
    var trustLoopback = false

    @Flag(name: .customLong("allow-other-secrets"), help: "Serve even though some campaigns were signed with another BROADSIDE_SECRET (their links answer 404).")
    var allowOtherSecrets = false

    /// Campaigns whose links were signed with another secret would get a 404 for every
    /// unsubscribe: `serve` refuses to start, naming them, unless told to go on anyway.
    static func checkSecret(_ secret: String, store: Store, allowOthers: Bool) throws {
        let mine = SecretFingerprint.of(secret)
        var others: [String] = [], unknown: [String] = []
        for campaign in try store.campaigns() {
            guard let settings = try? CampaignSettings(json: campaign.settings), settings.usesSecret else { continue }
            if let recorded = settings.secretFingerprint {
                if recorded != mine { others.append("'\(campaign.name)'") }
            } else {
                unknown.append("'\(campaign.name)'")
            }
        }
        if !unknown.isEmpty {
            Output.note("note: campaigns started before secrets were fingerprinted cannot be checked against this \(Secret.variable): \(unknown.joined(separator: ", "))")
        }
        guard !others.isEmpty else { return }
        let message = "these campaigns were signed with another \(Secret.variable), so their unsubscribe links would answer 404: \(others.joined(separator: ", ")); start serve with their secret"
        if allowOthers {
            Output.note("note: " + message)
        } else {
            throw BroadsideError.environment(message + " (or with --allow-other-secrets to serve the others anyway)")
        }
    }

    /// Each connection is a file descriptor: at the usual soft limit of 1,024, a thousand idle
    /// connections would leave none for the unsubscribes. The soft limit goes up to the hard one.
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    func run() async throws {
        let (host, port) = try Self.address(listen)
        var accessToken: String?
        if let name = accessTokenEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw BroadsideError.input("--access-token-env \(name): the variable is not set")
            }
            accessToken = value
        }
        let options = UnsubscribeServer.Options(host: host, port: port, accessToken: accessToken, trustLoopback: trustLoopback)
        if trustLoopback && !options.isLoopback {
            throw BroadsideError.input("--trust-loopback is for a loopback listener; beyond loopback give the dashboard a token with --access-token-env")
        }
        if accessToken == nil && !trustLoopback {
            Output.note("the dashboard answers 401 until --access-token-env names a token (or --trust-loopback, with no proxy in front); unsubscribe links work")
        }
        Self.raiseOpenFileLimit()
        var logger = makeLogger("broadside.serve", quiet: false)
        // A server's log is its requests: one line each unless BROADSIDE_LOG_LEVEL says otherwise.
        if ProcessInfo.processInfo.environment["BROADSIDE_LOG_LEVEL"] == nil { logger.logLevel = .info }
        let store = try global.openStore()
        let secret = try Secret.required()
        try Self.checkSecret(secret, store: store, allowOthers: allowOtherSecrets)
        let server = UnsubscribeServer(store: store, secret: secret, options: options, logger: logger)
        let links = publicURL.map { "; unsubscribe links: \($0.hasSuffix("/") ? $0 : $0 + "/")u/" } ?? ""
        do {
            try await server.run { [listen] in Output.note("serving on http://\(listen)/" + links) }
        } catch {
            // NIO's errors name the system call (`bind(descriptor:ptr:bytes:)`): say what it means.
            let text = "\(error)"
            if text.contains("Address already in use") {
                throw BroadsideError.environment("cannot serve on \(listen): something else is listening there (another broadside serve?); stop it or choose another port with --listen")
            }
            if text.contains("Cannot assign requested address") || text.contains("Permission denied") {
                throw BroadsideError.environment("cannot serve on \(listen): this machine cannot listen there (\(text.contains("Permission") ? "a port below 1024 needs root" : "no such local address")); choose another with --listen")
            }
            throw BroadsideError.environment("cannot serve on \(listen): \(text); choose another address with --listen")
        }
    }

    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw BroadsideError.input("--listen '\(text)': expected HOST:PORT, e.g. 127.0.0.1:8025")
        }
        let host = text[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
