import Foundation

/// What a campaign was started with, kept in its row so that `resume` sends the same
/// way. Never a secret: the password stays in the environment variable it names.
public struct CampaignSettings: Sendable, Codable, Equatable {
    /// `smtp://host:port` or `smtps://…`; nil with an outbox.
    public var smtp: String?
    /// `--dry-run`: the folder the messages are written to instead.
    public var outbox: String?
    public var user: String?
    /// The environment variable holding the password.
    public var passwordEnv: String?
    public var caFile: String?
    public var insecure: Bool?
    public var connections: Int
    public var rate: String?

    public init(smtp: String? = nil, outbox: String? = nil, user: String? = nil, passwordEnv: String? = nil,
                caFile: String? = nil, insecure: Bool? = nil, connections: Int = 4, rate: String? = nil) {
        self.smtp = smtp
        self.outbox = outbox
        self.user = user
        self.passwordEnv = passwordEnv
        self.caFile = caFile
        self.insecure = insecure
        self.connections = connections
        self.rate = rate
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(CampaignSettings.self, from: Data(json.utf8))
    }
}
