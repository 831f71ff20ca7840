import Foundation
import Signing
import Transport

/// `broadside auth login`: a person signs in once (on another device with a code, or in
/// this machine's browser), and the refresh token the identity platform gives back goes
/// to the profile's token file. An application or a service account signs in with no
/// person: login only checks that it can, and keeps the access token.
public struct OAuthSignIn {
    public let profile: String
    public let grants: OAuthGrants
    public let file: TokenFile
    /// Where the person is told what to do (standard error).
    public let tell: (String) -> Void
    /// How long a person has to sign in.
    public var patience: Double = 900

    public init(profile: String, grants: OAuthGrants, file: TokenFile, tell: @escaping (String) -> Void) {
        self.profile = profile
        self.grants = grants
        self.file = file
        self.tell = tell
    }

    /// Signs in and saves the tokens; returns what was saved.
    public func run(now: () -> Double = { Date().timeIntervalSince1970 }) throws -> TokenFile.Tokens {
        let settings = grants.settings
        let answer: TokenAnswer
        do {
            switch settings.flow {
            case .device: answer = try deviceCode()
            case .browser: answer = try browser()
            case .application, .serviceAccount: answer = try grants.unattended()
            }
        } catch let refusal as OAuthRefusal {
            throw BroadsideError.environment("the sign-in for profile '\(profile)' was refused (\(refusal))")
        }
        if settings.flow.signsInAPerson, answer.refreshToken == nil {
            throw BroadsideError.environment("the identity platform gave no refresh token (is offline_access among the scopes, and the app allowed to ask for it?); a campaign could not renew its sign-in")
        }
        let time = now()
        var tokens = TokenFile.Tokens(provider: settings.provider.rawValue, flow: settings.flow.rawValue,
                                      account: answer.account ?? grants.user,
                                      scopes: answer.scope.map { $0.split(separator: " ").map(String.init) } ?? grants.scopes,
                                      signedInAt: time)
        tokens.refreshToken = answer.refreshToken
        tokens.accessToken = answer.accessToken
        tokens.expiresAt = time + answer.expiresIn
        try file.write(tokens)
        return tokens
    }

    /// RFC 8628: show the code and where to enter it, then poll until the person has.
    func deviceCode() throws -> TokenAnswer {
        let endpoints = grants.endpoints
        guard let deviceURL = endpoints.device else { throw BroadsideError.input("this provider has no device sign-in") }
        let clientID = grants.settings.clientID ?? ""
        let started = try TokenEndpoint.json(deviceURL, fields: [("client_id", clientID), ("scope", grants.scopes.joined(separator: " "))], caFile: nil)
        guard let deviceCode = started["device_code"] as? String, let userCode = started["user_code"] as? String,
              let uri = (started["verification_uri"] ?? started["verification_url"]) as? String else {
            throw BroadsideError.environment("\(deviceURL) did not answer a device code")
        }
        let expiresIn = TokenEndpoint.number(started["expires_in"]) ?? patience
        var interval = max(1, TokenEndpoint.number(started["interval"]) ?? 5)
        tell("To sign in profile '\(profile)', open \(uri) in a browser (any device) and enter the code \(userCode)")
        tell("Waiting for the sign-in (the code works for \(DurationText.describe(expiresIn.rounded())))…")
        let deadline = Date().addingTimeInterval(min(expiresIn, patience))
        let fields = [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode), ("client_id", clientID)]
            + (try grants.clientSecretField(required: false))
        while Date() < deadline {
            Thread.sleep(forTimeInterval: interval)
            do {
                return try TokenEndpoint.request(endpoints.token, fields: fields)
            } catch let refusal as OAuthRefusal where refusal.code == "authorization_pending" {
                continue
            } catch let refusal as OAuthRefusal where refusal.code == "slow_down" {
                interval += 5   // RFC 8628 section 3.5
            }
        }
        throw BroadsideError.environment("the code \(userCode) was not entered in time; run broadside auth login --profile \(profile) again")
    }

    /// RFC 8252: the browser on this machine signs in and comes back to a loopback port
    /// with a code, exchanged with the PKCE verifier (and, for Google, the client secret).
    func browser() throws -> TokenAnswer {
        let endpoints = grants.endpoints
        guard let authorize = endpoints.authorize, var address = URLComponents(string: authorize) else {
            throw BroadsideError.input("this provider has no browser sign-in")
        }
        let redirect = try LoopbackRedirect()
        let pkce = PKCE()
        let state = PKCE().verifier
        let clientID = grants.settings.clientID ?? ""
        var query = [URLQueryItem(name: "client_id", value: clientID), URLQueryItem(name: "response_type", value: "code"),
                     URLQueryItem(name: "redirect_uri", value: redirect.redirectURI),
                     URLQueryItem(name: "scope", value: grants.scopes.joined(separator: " ")), URLQueryItem(name: "state", value: state),
                     URLQueryItem(name: "code_challenge", value: pkce.challenge), URLQueryItem(name: "code_challenge_method", value: "S256")]
        if grants.settings.provider == .google {
            // Google gives a refresh token only for offline access, and again only with consent.
            query += [URLQueryItem(name: "access_type", value: "offline"), URLQueryItem(name: "prompt", value: "consent")]
        }
        if let user = grants.user { query.append(URLQueryItem(name: "login_hint", value: user)) }
        // Encoded as a form is: URLComponents would leave `/`, `:` and `+` in values as they are.
        let extra = HTTPForm.encode(query.map { ($0.name, $0.value ?? "") })
        address.percentEncodedQuery = address.percentEncodedQuery.map { "\($0)&\(extra)" } ?? extra
        guard let url = address.url?.absoluteString else { throw BroadsideError.input("cannot build the sign-in address from \(authorize)") }
        tell("To sign in profile '\(profile)', open this address in a browser on this machine:")
        tell(url)
        let answer = try redirect.waitForRedirect(state: state, timeout: patience)
        if let error = answer["error"] { throw OAuthRefusal(code: error, detail: answer["error_description"]) }
        guard let code = answer["code"] else { throw BroadsideError.environment("the sign-in came back without a code") }
        return try TokenEndpoint.request(endpoints.token, fields: [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect.redirectURI),
            ("client_id", clientID), ("code_verifier", pkce.verifier),
        ] + (try grants.clientSecretField(required: false)))
    }
}
