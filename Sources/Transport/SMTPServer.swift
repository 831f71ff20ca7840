import Addresses
import Delivery
import Foundation

/// Where and how to reach an SMTP server, and how to sign in. The secret is held in
/// memory only: it comes from an environment variable or a command, never a file.
public struct SMTPServer: Sendable {
    public enum Security: String, Sendable, Codable {
        /// `smtps://`: TLS from the first byte (port 465).
        case implicitTLS = "tls"
        /// STARTTLS, and refuse to go on without it.
        case startTLS = "starttls"
        /// STARTTLS when the server offers it (a local relay on loopback, a test server).
        case opportunistic
        /// Plain text, never TLS.
        case none
    }

    public enum Credentials: Sendable {
        case password(user: String, password: String)
        case oauth2(user: String, bearerToken: String)
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var credentials: Credentials?
    /// Asked for credentials by every new connection instead (an OAuth token that is renewed).
    public var credentialSource: (any CredentialSource)?
    /// The name given in EHLO; curl's default is the local host name.
    public var ehloName: String?
    /// A CA bundle to verify the server's certificate with (a private CA, a self-signed relay).
    public var caFile: String?
    /// Turns certificate verification off. Only ever by an explicit option.
    public var insecureSkipVerify: Bool = false
    public var connectTimeout: Double = 15
    /// How long a step may wait for the server before the attempt counts as lost.
    public var replyTimeout: Double = 120
    /// A connection unused for this long is closed rather than reused.
    public var idleTimeout: Double = 60
    /// A connection is closed and a new one opened after this many messages.
    public var messagesPerConnection: Int = 100

    public init(host: String, port: Int, security: Security, credentials: Credentials? = nil) {
        self.host = host
        self.port = port
        self.security = security
        self.credentials = credentials
    }

    /// Reads `smtp://host[:port]` (STARTTLS when offered) or `smtps://host[:port]`.
    public init(url: String) throws(TransportError) {
        let scheme: String
        let rest: Substring
        if url.hasPrefix("smtps://") {
            scheme = "smtps"; rest = url.dropFirst(8)
        } else if url.hasPrefix("smtp://") {
            scheme = "smtp"; rest = url.dropFirst(7)
        } else {
            throw TransportError("'\(url)' is not an SMTP URL; write smtp://host:port or smtps://host:port")
        }
        let authority = rest.prefix { $0 != "/" }
        guard !authority.contains("@") else {
            throw TransportError("'\(url)' holds a user name or password; give the user in the profile and the password through an environment variable")
        }
        var host = String(authority)
        var port = scheme == "smtps" ? 465 : 587
        if host.hasPrefix("[") {                       // [::1]:2525
            guard let close = host.firstIndex(of: "]") else { throw TransportError("'\(url)' has an unclosed IPv6 address") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65535).contains(value) else { throw TransportError("'\(url)' has an invalid port") }
                port = value
            }
            host = String(host[...close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]), (1...65535).contains(value) else {
                throw TransportError("'\(url)' has an invalid port")
            }
            port = value
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw TransportError("'\(url)' has no host") }
        self.init(host: host, port: port, security: scheme == "smtps" ? .implicitTLS : .opportunistic)
    }

    /// The URL given to curl (the path carries the EHLO name).
    var curlURL: String {
        "\(security == .implicitTLS ? "smtps" : "smtp")://\(host):\(port)/\(ehloName ?? "")"
    }

    /// `host:port`, for messages.
    public var address: String { "\(host):\(port)" }

    /// This machine, by its address: a password goes in clear to nothing else.
    var isLoopback: Bool { LoopbackHost.isLoopback(host) }
}
