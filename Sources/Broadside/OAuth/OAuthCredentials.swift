import Delivery
import Foundation
import Transport

/// An access token and when it stops working; renewed a little before that: a tenth of
/// its life, at most a minute, so a connection never signs in with a token about to lapse.
struct HeldToken: Sendable {
    var value: String
    var obtainedAt: Double
    var expiresAt: Double

    func isFresh(at now: Double) -> Bool {
        now < expiresAt - min(60, max(0, expiresAt - obtainedAt) / 10)
    }
}

/// The credentials of a profile that signs in with OAuth 2 (its `oauth:` section), asked
/// for by every new SMTP or IMAP connection. A person's sign-in (device or browser) is
/// renewed with the refresh token from the profile's token file, and a refresh token the
/// platform rotates is saved at once; an application or a service account gets a new
/// token whenever it needs one. Tokens never leave memory and the token file.
public final class OAuthCredentials: CredentialSource, @unchecked Sendable {
    public let profile: String
    public let user: String
    public let grants: OAuthGrants
    public let file: TokenFile
    private let clock: @Sendable () -> Double
    /// Guarded by `lock`; renewals happen under it, so connections opening together share one.
    private let lock = NSLock()
    private var held: HeldToken?
    private var renewed = 0

    public init(profile: String, user: String, grants: OAuthGrants, file: TokenFile,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.profile = profile
        self.user = user
        self.grants = grants
        self.file = file
        self.clock = clock
    }

    public var renewals: Int {
        lock.lock()
        defer { lock.unlock() }
        return renewed
    }

    public func credentials(renewing: Bool) throws(TransportError) -> SMTPServer.Credentials {
        lock.lock()
        defer { lock.unlock() }
        do {
            return .oauth2(user: user, bearerToken: try token(renewing: renewing, now: clock()))
        } catch let error as TransportError {
            throw error
        } catch let refusal as OAuthRefusal where refusal.needsNewSignIn {
            throw TransportError("the identity platform refused profile '\(profile)''s sign-in (\(refusal)); sign in again: broadside auth login --profile \(profile)")
        } catch {
            throw TransportError("cannot get an OAuth 2 token for profile '\(profile)': \(error)")
        }
    }

    /// The held token if still fresh, else the token file's, else a renewed one. Renewal
    /// happens under a lock on the token file, so that a `send` and a `bounces fetch` of
    /// the same profile never both spend the refresh token a platform rotates: the second
    /// finds the first one's new token in the file.
    private func token(renewing: Bool, now: Double) throws -> String {
        if !renewing, let held, held.isFresh(at: now) { return held.value }
        return try file.whileLocked {
            let stored = try file.read()
            if let stored, let value = stored.accessToken, let expiresAt = stored.expiresAt, !renewing || value != held?.value {
                let kept = HeldToken(value: value, obtainedAt: stored.renewedAt ?? stored.signedInAt, expiresAt: expiresAt)
                if kept.isFresh(at: now) {
                    if held != nil { renewed += 1 }
                    held = kept
                    return value
                }
            }
            let answer: TokenAnswer
            if grants.settings.flow.signsInAPerson {
                guard let refreshToken = stored?.refreshToken else {
                    throw TransportError("profile '\(profile)' is not signed in (no token in \(file.url.path)): run broadside auth login --profile \(profile)")
                }
                answer = try grants.refresh(refreshToken, scopes: stored?.scopes ?? grants.scopes)
            } else {
                answer = try grants.unattended()
            }
            var tokens = stored ?? TokenFile.Tokens(provider: grants.settings.provider.rawValue, flow: grants.settings.flow.rawValue,
                                                    account: user, scopes: grants.scopes, signedInAt: now)
            // A rotated refresh token replaces the old one now: the old one may already be revoked.
            if let rotated = answer.refreshToken { tokens.refreshToken = rotated }
            tokens.accessToken = answer.accessToken
            tokens.expiresAt = now + answer.expiresIn
            tokens.renewedAt = now
            try file.write(tokens)
            if held != nil || renewing { renewed += 1 }
            held = HeldToken(value: answer.accessToken, obtainedAt: now, expiresAt: now + answer.expiresIn)
            return answer.accessToken
        }
    }
}
