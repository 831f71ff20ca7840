import Foundation

/// A real OAuth 2 authorization server (Authlib on Flask, scripts/oauth-test-server.py) on
/// a loopback port: device-code, browser (authorization code with PKCE), client-credentials,
/// service-account and rotating refresh-token grants, introspection and revocation, with
/// access tokens that live `lifetime` seconds. The test plays the person who signs in.
public final class OAuthTestServer: @unchecked Sendable {
    public let port: Int
    public let user: String
    /// One JSON line per token issued: grant_type, client_id, user, access_token, refresh_token.
    public let log: URL
    /// The credentials the SMTP test server and Dovecot introspect tokens with.
    public static let resource = (id: "mail-server", secret: "introspect-secret")
    private let process: Process
    private let directory: TemporaryDirectory
    private let lifeline = Pipe()

    public var url: String { "http://127.0.0.1:\(port)" }
    /// RFC 7662's endpoint with the resource server's credentials in it.
    public var introspectionURL: String { "http://\(Self.resource.id):\(Self.resource.secret)@127.0.0.1:\(port)/introspect" }

    public struct Issued: Decodable, Sendable {
        public var grant_type: String
        public var client_id: String
        public var user: String?
        public var access_token: String
        public var refresh_token: String?
    }

    /// `arguments`: the clients (`--public-client ID`, `--secret-client ID:SECRET`,
    /// `--certificate-client ID:PEM`, `--service-account ISSUER:PEM`).
    public init(lifetime: Int = 3600, user: String = "office@example.com", arguments: [String]) throws {
        directory = try TemporaryDirectory()
        self.user = user
        log = directory.url.appendingPathComponent("issued.jsonl")
        let logFile = directory.path("server.log")
        FileManager.default.createFile(atPath: logFile, contents: nil)
        do {
            (process, port) = try LoopbackScript.start("oauth-test-server.py", [
                "--lifetime", "\(lifetime)", "--user", user, "--log", log.path, "--resource", "\(Self.resource.id):\(Self.resource.secret)",
                "--exit-with-parent",
            ] + arguments, lifeline: lifeline, standardError: FileHandle(forWritingAtPath: logFile),
               failure: "the OAuth test server did not start (are python3-authlib and python3-flask installed?)")
        } catch {
            let said = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw TestSupportError("\(error) \(said.suffix(600))")
        }
    }

    /// Every token issued so far, in order.
    public func issued() throws -> [Issued] {
        try JSONLines.read(Issued.self, from: log.path)
    }

    /// The person enters the code shown by `auth login` on the verification page.
    public func approve(userCode: String) throws {
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-f", "-d", "user_code=\(userCode)", "\(url)/device"])
        guard result.status == 0 else { throw TestSupportError("approving \(userCode) failed: \(result.stderr)") }
    }

    /// RFC 7009: the token is revoked, as an administrator or the user would.
    public func revoke(_ token: String, client: String) throws {
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-f", "-d", "token=\(token)", "-d", "client_id=\(client)", "\(url)/revoke"])
        guard result.status == 0 else { throw TestSupportError("revoking failed: \(result.stderr)") }
    }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
