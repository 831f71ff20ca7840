import Foundation

/// How a profile signs in with OAuth 2 (the profile's `oauth:` section): which identity
/// platform, which flow, which registered application. Never a secret: a client secret
/// stays in the environment variable or the command named here; refresh and access tokens
/// live in the profile's token file (`TokenFile`).
@dynamicMemberLookup
public struct OAuthSettings: Sendable, Codable, Equatable {
    public enum Provider: String, Sendable, Codable, CaseIterable {
        /// Microsoft's identity platform: Exchange Online, Outlook.com.
        case microsoft
        /// Google: Gmail and Google Workspace.
        case google
    }

    public enum Flow: String, Sendable, Codable, CaseIterable {
        /// A user's mailbox, signed in on another device's browser with a code (RFC 8628).
        case device
        /// A user's mailbox, signed in with this machine's browser, redirected back to a
        /// loopback port (RFC 8252, with PKCE).
        case browser
        /// An application sending as a mailbox it was given (client credentials, with a
        /// client secret or a certificate).
        case application
        /// A Google service account with domain-wide delegation, naming the mailbox.
        case serviceAccount = "service_account"

        /// The flows a person signs in to once, after which a refresh token renews access.
        public var signsInAPerson: Bool { self == .device || self == .browser }
    }

    public var provider: Provider
    public var flow: Flow
    /// The application registered with the platform, as the configuration names it.
    public var registration = Registration()

    /// The registered application and where its secret comes from; read from the profile's
    /// `oauth:` section with these keys, and kept in the campaign's settings the same way.
    public struct Registration: Sendable, Codable, Equatable {
        /// Microsoft: the directory (`contoso.onmicrosoft.com` or its id); `organizations` by default.
        public var tenant: String?
        /// The identity platform's base URL: Microsoft's national clouds
        /// (`https://login.microsoftonline.us`, `https://login.chinacloudapi.cn`), or a test server.
        public var authority: String?
        public var clientID: String?
        public var clientSecretEnv: String?
        public var clientSecretCommand: String?
        /// Microsoft application flow: the certificate registered with the app and its private key (PEM).
        public var certificateFile: String?
        public var certificateKeyFile: String?
        /// Google service account: its JSON key file.
        public var serviceAccountFile: String?
        /// Instead of the provider's scopes for the flow.
        public var scopes: [String]?

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case tenant, authority, scopes
            case clientID = "client_id", clientSecretEnv = "client_secret_env", clientSecretCommand = "client_secret_command"
            case certificateFile = "certificate_file", certificateKeyFile = "certificate_key_file"
            case serviceAccountFile = "service_account_file"
        }
    }

    public subscript<Value>(dynamicMember path: WritableKeyPath<Registration, Value>) -> Value {
        get { registration[keyPath: path] }
        set { registration[keyPath: path] = newValue }
    }

    public init(provider: Provider, flow: Flow) {
        self.provider = provider
        self.flow = flow
    }

    /// The endpoints the flow posts to.
    public struct Endpoints: Sendable, Equatable {
        public var token: String
        public var device: String?
        public var authorize: String?
        public var revoke: String?
    }

    public var endpoints: Endpoints {
        switch provider {
        case .microsoft:
            let base = "\(Self.trimmed(registration.authority ?? "https://login.microsoftonline.com"))/\(registration.tenant ?? "organizations")/oauth2/v2.0"
            // Microsoft offers no endpoint that revokes one refresh token.
            return Endpoints(token: "\(base)/token", device: "\(base)/devicecode", authorize: "\(base)/authorize", revoke: nil)
        case .google:
            if let authority = registration.authority {
                let base = Self.trimmed(authority)
                return Endpoints(token: "\(base)/token", device: "\(base)/device/code", authorize: "\(base)/o/oauth2/v2/auth", revoke: "\(base)/revoke")
            }
            return Endpoints(token: "https://oauth2.googleapis.com/token", device: "https://oauth2.googleapis.com/device/code",
                             authorize: "https://accounts.google.com/o/oauth2/v2/auth", revoke: "https://oauth2.googleapis.com/revoke")
        }
    }

    /// What the tokens may do: send over SMTP, and read or append over IMAP when the profile
    /// reads bounces or keeps a Sent copy.
    public func scopes(imap: Bool) -> [String] {
        if let scopes = registration.scopes { return scopes }
        switch (provider, flow) {
        case (.microsoft, .application):
            return ["https://outlook.office365.com/.default"]
        case (.microsoft, _):
            return ["https://outlook.office.com/SMTP.Send"] + (imap ? ["https://outlook.office.com/IMAP.AccessAsUser.All"] : [])
                + ["offline_access"]
        case (.google, _):
            // One scope covers SMTP and IMAP; Google has no narrower one for either.
            return ["https://mail.google.com/"]
        }
    }

    /// What is missing or cannot work, in one sentence naming the key; nil when complete.
    public func problem(profile: String) -> String? {
        let section = "profile '\(profile)' oauth"
        if flow != .serviceAccount, registration.clientID == nil {
            return "\(section): client_id is missing (the application's id from its registration)"
        }
        switch (provider, flow) {
        case (.google, .device):
            return "\(section): Google's device flow does not allow the Gmail scope; use flow: browser (or service_account)"
        case (.google, .application):
            return "\(section): Google has no client-credentials sign-in for Gmail; use flow: service_account"
        case (.microsoft, .serviceAccount):
            return "\(section): service_account is Google's; for Microsoft use flow: application"
        case (.microsoft, .application):
            if registration.tenant == nil || ["common", "organizations", "consumers"].contains(registration.tenant!.lowercased()) {
                return "\(section): an application signs in to one directory: set tenant (contoso.onmicrosoft.com or its id)"
            }
            if registration.clientSecretEnv == nil, registration.clientSecretCommand == nil, registration.certificateFile == nil {
                return "\(section): an application needs client_secret_env, client_secret_command, or certificate_file with certificate_key_file"
            }
            if (registration.certificateFile == nil) != (registration.certificateKeyFile == nil) {
                return "\(section): certificate_file and certificate_key_file go together"
            }
        case (.google, .serviceAccount):
            if registration.serviceAccountFile == nil { return "\(section): service_account_file is missing (the service account's JSON key)" }
        case (.google, .browser):
            if registration.clientSecretEnv == nil, registration.clientSecretCommand == nil {
                return "\(section): Google's installed apps send their client secret: set client_secret_env or client_secret_command"
            }
        default:
            break
        }
        return nil
    }

    private static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
