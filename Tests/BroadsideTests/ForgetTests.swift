import Foundation
import Testing
import TestSupport

/// `broadside forget ADDRESS`: a person asks to be forgotten. Their fields, their address in
/// every list, campaign, event and bounce go; the campaigns' counts stay. Had they
/// unsubscribed, only a hash of the address stays, so that importing them again suppresses
/// them again rather than mailing them.
@Suite("Forget a person")
struct ForgetTests {
    @Test func forgettingAnUnsubscribedPersonLeavesNoTraceButTheirSuppressionHolds() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["ana.secret", "bob", "carla"])
        try fixture.send(["--smtp", server.url]).orThrow()
        try Command.broadsideSucceeding(["suppress", "add", "ana.secret@example.com", "--db", fixture.db])
        let before = try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state")

        let forgot = try Command.broadside(["forget", "ANA.secret@example.com", "--db", fixture.db, "--json"])
        #expect(forgot.status == 0, "\(forgot.stderr)")
        #expect(forgot.stdout.contains("\"messages\":1") && forgot.stdout.contains("\"lists\":1") && forgot.stdout.contains("\"suppression\":\"kept as a hash\""),
                "\(forgot.stdout)")
        // Nothing of the address or the fields is left in the database file.
        _ = try sqlite(fixture.db, "PRAGMA wal_checkpoint(TRUNCATE)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.db))
        #expect(bytes.range(of: Data("ana.secret".utf8)) == nil, "the address is still in the database")
        #expect(try sqlite(fixture.db, "SELECT state, count(*) FROM messages GROUP BY state") == before, "the campaign's counts stay")

        // Imported again (a colleague's old spreadsheet): suppressed again, never mailed.
        try Command.broadsideSucceeding(["import", try fixture.dir.write("again.csv", "email,name\nana.secret@example.com,Ana\n"), "--list", "again", "--db", fixture.db])
        let second = try Command.broadside(["send", "--template", fixture.template, "--list", "again", "--campaign", "second", "--smtp", server.url,
                                            "--db", fixture.db, "--json"])
        #expect(second.stdout.contains("\"skipped\":1"), "\(second.stdout)")
        #expect(try server.received().filter { $0.rcpt_tos == ["ana.secret@example.com"] }.count == 1, "mailed once, before she was forgotten")
    }

    @Test func forgettingSomeoneUnknownChangesNothingAndSaysSo() throws {
        let fixture = try TestCampaign(["bob"])
        let result = try Command.broadside(["forget", "nobody@example.com", "--db", fixture.db])
        #expect(result.status == 0)
        #expect(result.stdout.contains("nothing is known of nobody@example.com"), "\(result.stdout)")
    }
}

extension CommandResult {
    /// This result, or an error with what it printed when it did not exit 0.
    @discardableResult
    func orThrow() throws -> CommandResult {
        guard status == 0 else { throw TestSupportError("exit \(status): \(stderr)\(stdout)") }
        return self
    }
}
