import Delivery
import Foundation
import Transport

/// Builds the transport a campaign's settings ask for. The password is read from the
/// environment variable the settings name, at the moment it is needed, and kept in memory only.
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
        if let user = settings.user {
            guard let variable = settings.passwordEnv else {
                throw BroadsideError.input("--user \(user) needs --password-env VARIABLE naming the environment variable that holds the password")
            }
            guard let password = environment[variable], !password.isEmpty else {
                throw BroadsideError.input("the environment variable \(variable) is not set; export it with the password (it is never stored)")
            }
            server.credentials = .password(user: user, password: password)
        }
        server.caFile = settings.caFile
        server.insecureSkipVerify = settings.insecure ?? false
        return SMTPTransport(server: server)
    }
}
