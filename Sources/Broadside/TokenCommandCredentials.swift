import Delivery
import Foundation
import Transport

/// `--oauth2-token-command`: the command is run again whenever the token it gave is about
/// to expire, or the server refused it, so a campaign that lasts longer than a token (an
/// Exchange campaign at 30 messages a minute lasts hours; Microsoft's tokens live about an
/// hour) never stops for it. The command prints a bare token (which lives `lifetime`
/// seconds) or JSON with `access_token` and `expires_in`. Tokens stay in memory only.
public final class TokenCommandCredentials: CredentialSource, @unchecked Sendable {
    public let user: String
    private let command: String
    private let lifetime: Double
    private let environment: [String: String]
    private let clock: @Sendable () -> Double
    /// Guarded by `lock`; the command runs under it, so connections opening together share one renewal.
    private let lock = NSLock()
    private var held: HeldToken?
    private var runs = 0

    public init(user: String, command: String, lifetime: Double, environment: [String: String],
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.user = user
        self.command = command
        self.lifetime = lifetime
        self.environment = environment
        self.clock = clock
    }

    /// How many times the token was renewed after the first one.
    public var renewals: Int {
        lock.lock()
        defer { lock.unlock() }
        return max(0, runs - 1)
    }

    public func credentials(renewing: Bool) throws(TransportError) -> SMTPServer.Credentials {
        lock.lock()
        defer { lock.unlock() }
        let now = clock()
        if !renewing, let held, held.isFresh(at: now) {
            return .oauth2(user: user, bearerToken: held.value)
        }
        let output: String
        do {
            output = try TransportSetup.run(command, what: "OAuth 2 token")
        } catch {
            throw TransportError("the OAuth 2 token command failed: \(error)")
        }
        let (value, expiresIn) = Self.read(output, lifetime: lifetime)
        guard !value.isEmpty else { throw TransportError("the OAuth 2 token command printed no token") }
        held = HeldToken(value: value, obtainedAt: now, expiresAt: now + expiresIn)
        runs += 1
        return .oauth2(user: user, bearerToken: value)
    }

    /// A bare token, or `{"access_token": …, "expires_in": …}` as token endpoints answer.
    static func read(_ output: String, lifetime: Double) -> (token: String, expiresIn: Double) {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
            return (trimmed, lifetime)
        }
        let expires = (object["expires_in"] as? Double) ?? (object["expires_in"] as? Int).map(Double.init)
            ?? (object["expires_in"] as? String).flatMap(Double.init) ?? lifetime
        return ((object["access_token"] as? String) ?? "", expires)
    }
}
