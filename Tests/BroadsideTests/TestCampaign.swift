import Foundation
import TestSupport

/// What most delivery tests start from: recipients imported into list "l" of a new
/// database, and a template; `send` runs campaign "c" over them. The folder lives as
/// long as this value.
struct TestCampaign {
    static let template = "From: News <news@example.com>\nSubject: Hello {{ name }}\n\nDear {{ name }},\nthis is for you.\n"

    let dir: TemporaryDirectory
    let db: String
    let template: String
    let list: String

    /// `locals`: the recipients' local parts at example.com (each is also the name); the
    /// scripted SMTP server lets a local part choose how it answers.
    init(_ locals: [String]) throws {
        dir = try TemporaryDirectory()
        db = dir.path("b.sqlite")
        template = try dir.write("t.txt", Self.template)
        list = try dir.write("l.csv", "email,name\n" + locals.map { "\($0)@example.com,\($0)\n" }.joined())
        let imported = try Command.broadside(["import", list, "--list", "l", "--db", db])
        guard imported.status == 0 else { throw TestSupportError(imported.stderr) }
    }

    /// `user1@example.com` … `userN@example.com`.
    init(count: Int) throws {
        try self.init((1...count).map { "user\($0)" })
    }

    /// `broadside send` with the campaign's template, list and database, and `--json`.
    var sendArguments: [String] { ["send", "--template", template, "--list", "l", "--campaign", "c", "--db", db, "--json"] }

    func send(_ extra: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try Command.broadside(sendArguments + extra, environment: environment)
    }

    /// Each message's state by the recipient's local part.
    func states() throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try sqlite(db, "SELECT recipient, state FROM messages").map {
            let parts = $0.split(separator: "|").map(String.init)
            return (String(parts[0].prefix { $0 != "@" }), parts[1])
        })
    }
}
