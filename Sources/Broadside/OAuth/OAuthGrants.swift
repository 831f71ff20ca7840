import Foundation
import Signing
import Transport

/// The token requests of each flow, built from a profile's OAuth settings. A client
/// secret or a private key is read when a request needs it and kept in memory only.
public struct OAuthGrants: Sendable {
    public let settings: OAuthSettings
    /// The mailbox: the subject a service account asks for.
    public let user: String?
    public let scopes: [String]
    let environment: [String: String]
    let clock: @Sendable () -> Double

    public init(settings: OAuthSettings, user: String?, imap: Bool, environment: [String: String],
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.settings = settings
        self.user = user
        self.scopes = settings.scopes(imap: imap)
        self.environment = environment
        self.clock = clock
    }

    var endpoints: OAuthSettings.Endpoints { settings.endpoints }

    /// A new access token from a refresh token (which the platform may rotate), for the
    /// scopes the person consented to when signing in.
    public func refresh(_ refreshToken: String, scopes consented: [String]) throws -> TokenAnswer {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", settings.clientID ?? "")]
        if settings.provider == .microsoft { fields.append(("scope", consented.joined(separator: " "))) }
        fields += try clientSecretField(required: false)
        return try TokenEndpoint.request(endpoints.token, fields: fields)
    }

    /// An access token for an application or a service account: no person, no refresh token.
    public func unattended() throws -> TokenAnswer {
        switch settings.flow {
        case .application:
            var fields = [("grant_type", "client_credentials"), ("client_id", settings.clientID ?? ""),
                          ("scope", scopes.joined(separator: " "))]
            if let certificate = settings.certificateFile, let key = settings.certificateKeyFile {
                fields += [("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                           ("client_assertion", try clientAssertion(certificate: certificate, key: key))]
            } else {
                fields += try clientSecretField(required: true)
            }
            return try TokenEndpoint.request(endpoints.token, fields: fields)
        case .serviceAccount:
            return try serviceAccountToken()
        case .device, .browser:
            throw BroadsideError.environment("a \(settings.flow.rawValue) sign-in needs a person: run broadside auth login")
        }
    }

    /// `client_secret`, from the environment variable or command the settings name.
    func clientSecretField(required: Bool) throws -> [(String, String)] {
        guard let secret = try TransportSetup.secret(variable: settings.clientSecretEnv, command: settings.clientSecretCommand,
                                                     what: "OAuth client secret", environment: environment) else {
            if required { throw BroadsideError.input("the OAuth application needs client_secret_env or client_secret_command") }
            return []
        }
        return [("client_secret", secret)]
    }

    /// Microsoft's certificate credential: a JWT about the app, addressed to the token
    /// endpoint, signed with the certificate's key and naming the certificate's thumbprint.
    func clientAssertion(certificate: String, key: String) throws -> String {
        let certificatePEM = try Self.readFile(certificate, what: "certificate")
        let keyPEM = try Self.readFile(key, what: "certificate's private key")
        do {
            let signer = try SignedAssertion(privateKeyPEM: keyPEM)
            let now = Int(clock())
            let id = settings.clientID ?? ""
            return try signer.token(claims: ["aud": endpoints.token, "iss": id, "sub": id, "jti": UUID().uuidString,
                                             "iat": now, "nbf": now, "exp": now + 600],
                                    extraHeader: try SignedAssertion.thumbprints(certificatePEM: certificatePEM))
        } catch let error as SignedAssertion.KeyError {
            throw BroadsideError.input("\(key) or \(certificate): \(error.description)")
        }
    }

    /// Google's service account with domain-wide delegation: a JWT naming the mailbox as its subject.
    func serviceAccountToken() throws -> TokenAnswer {
        guard let file = settings.serviceAccountFile else { throw BroadsideError.input("the oauth section needs service_account_file") }
        guard let user else { throw BroadsideError.input("a service account signs in as a mailbox: give the profile a user") }
        let text = try Self.readFile(file, what: "service account key")
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let email = object["client_email"] as? String, let pem = object["private_key"] as? String else {
            throw BroadsideError.input("\(file) is not a service account's JSON key (client_email and private_key are missing)")
        }
        // Google's key names its own token endpoint; an authority (a test server) wins over it.
        let tokenURL = settings.authority == nil ? (object["token_uri"] as? String ?? endpoints.token) : endpoints.token
        do {
            let now = Int(clock())
            let assertion = try SignedAssertion(privateKeyPEM: pem).token(claims: [
                "iss": email, "sub": user, "scope": scopes.joined(separator: " "), "aud": tokenURL, "iat": now, "exp": now + 3600,
            ])
            return try TokenEndpoint.request(tokenURL, fields: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                                                                ("assertion", assertion)])
        } catch let error as SignedAssertion.KeyError {
            throw BroadsideError.input("\(file): \(error.description)")
        }
    }

    static func readFile(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BroadsideError.input("\(path): cannot read the \(what)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
