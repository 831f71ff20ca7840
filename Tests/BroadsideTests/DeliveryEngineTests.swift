import Foundation
import Testing
import TestSupport

/// The delivery engine against a scripted SMTP server: each recipient's local part
/// chooses how the server behaves (see scripts/smtp-test-server.py).
@Suite("Delivery engine")
struct DeliveryEngineTests {
    @Test func aTemporaryFailureIsRetriedWithBackoffUntilAccepted() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign(["flaky-1", "ok-1"])
        let result = try campaign.send(["--smtp", server.url, "--retry-delay", "1s", "--follow"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try campaign.states() == ["flaky-1": "accepted", "ok-1": "accepted"])
        #expect(try sqlite(campaign.db, "SELECT state, smtp_code FROM events WHERE message_id = (SELECT id FROM messages WHERE recipient LIKE 'flaky-1@%') ORDER BY id")
                == ["deferred|451", "accepted|250"])
        #expect(try server.received().filter { $0.rcpt_tos[0].hasPrefix("flaky-1") }.count == 1)
    }

    @Test func eachRecipientsMessageIDIsTheCampaignsTokenItsContactAndTheSendersDomain() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign(["a", "b", "c"])
        #expect(try campaign.send(["--smtp", server.url]).status == 0)
        let rows = try sqlite(campaign.db, "SELECT m.message_id, m.contact_id, m.recipient FROM messages m ORDER BY m.id").map { $0.split(separator: "|").map(String.init) }
        let tokens = Set(rows.map { String($0[0].prefix { $0 != "." }) })
        #expect(tokens.count == 1 && tokens.first?.count == 16, "one token for the campaign: \(rows)")
        for row in rows {
            #expect(row[0] == "\(tokens.first ?? "").\(row[1])@example.com", "\(row)")
            let received = try #require(try server.received().first { $0.rcpt_tos == [row[2]] })
            #expect(received.data.contains("Message-ID: <\(row[0])>\r\n"), "the header carries the recorded id")
        }
    }

    @Test func deferralsExpireAsFailed() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign(["defer-1"])
        let result = try campaign.send(["--smtp", server.url, "--retry-delay", "0.3s", "--give-up-after", "1s", "--follow"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(try sqlite(campaign.db, "SELECT state, reason FROM messages") == ["failed|expired"])
        let attempts = try sqlite(campaign.db, "SELECT count(*) FROM events WHERE state IN ('deferred', 'failed')")
        #expect(Int(attempts.first ?? "0") ?? 0 >= 2)
    }

    @Test func a421ClosesTheConnectionDefersAndCoolsDown() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign(["throttle-1", "ok-1", "ok-2", "ok-3"])
        let started = Date()
        let result = try campaign.send(["--smtp", server.url, "--connections", "1", "--throttle-cooldown", "1s"])
        #expect(result.status == 0, "\(result.stderr)")
        let states = try campaign.states()
        #expect(states["throttle-1"] == "deferred")
        #expect(states.filter { $0.key.hasPrefix("ok-") }.values.allSatisfy { $0 == "accepted" })
        #expect(try sqlite(campaign.db, "SELECT smtp_code, reason FROM messages WHERE recipient LIKE 'throttle-1@%'") == ["421|speeding"])
        #expect(Date().timeIntervalSince(started) >= 1, "the profile cooled down before sending on")
    }

    @Test func aConnectionLostBeforeTheEndOfDATADefersAndAfterItIsUnknown() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign(["dropdata-1", "dropreply-1", "ok-1"])
        let result = try campaign.send(["--smtp", server.url, "--connections", "1", "--server-lost-timeout", "1m"])
        #expect(result.status == 0, "\(result.stderr)")
        let states = try campaign.states()
        #expect(states == ["dropdata-1": "deferred", "dropreply-1": "unknown", "ok-1": "accepted"])
        // dropreply-1 reached the server whole: unknown means "possibly delivered", and it was.
        #expect(Set(try server.received().map { $0.rcpt_tos[0] }) == ["dropreply-1@example.com", "ok-1@example.com"])
        #expect(result.stdout.contains("\"unknown\":1"))
    }

    @Test func aReplySlowerThanTheTimeoutIsUnknownAndAPatientOneAccepted() throws {
        let server = try SMTPTestServer(arguments: ["--slow", "2.5"])
        let impatient = try TestCampaign(["slow-1"])
        _ = try impatient.send(["--smtp", server.url, "--reply-timeout", "1s"])
        #expect(try impatient.states() == ["slow-1": "unknown"])
        let patient = try TestCampaign(["slow-2"])
        _ = try patient.send(["--smtp", server.url])
        #expect(try patient.states() == ["slow-2": "accepted"])
    }

    @Test func signsInWithThePasswordFromTheEnvironmentAndExitsThreeOnAWrongOne() throws {
        let server = try SMTPTestServer(arguments: ["--auth", "news:s3cret"])
        let wrong = try TestCampaign(["ok-1"])
        let refused = try wrong.send(["--smtp", server.url, "--user", "news", "--password-env", "SMTP_PASSWORD"], environment: ["SMTP_PASSWORD": "wrong"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("refused the sign-in"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(try sqlite(wrong.db, "SELECT count(*) FROM messages") == ["0"])

        let right = try TestCampaign(["ok-1", "ok-2"])
        let accepted = try right.send(["--smtp", server.url, "--user", "news", "--password-env", "SMTP_PASSWORD"], environment: ["SMTP_PASSWORD": "s3cret"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try server.received().count == 2)
        // The password is nowhere in the database.
        let dump = try sqlite(right.db, "SELECT settings FROM campaigns").joined()
        #expect(dump.contains("SMTP_PASSWORD"))
        #expect(!dump.contains("s3cret"))
        #expect(!(try Data(contentsOf: URL(fileURLWithPath: right.db))).contains(Data("s3cret".utf8)))

        // Sent on with the password from a command: the variable the campaign started with no longer applies.
        let moved = try TestCampaign(["ok-3", "ok-4"])
        let first = try moved.send(["--smtp", server.url, "--user", "news", "--password-env", "SMTP_PASSWORD", "--limit", "1"],
                                   environment: ["SMTP_PASSWORD": "s3cret"])
        #expect(first.status == 0, "\(first.stderr)")
        let rest = try moved.send(["--password-command", "printf s3cret"])
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(try moved.states() == ["ok-3": "accepted", "ok-4": "accepted"])
    }

    @Test func startTLSVerifiesTheCertificateUnlessGivenItsCA() throws {
        let dir = try TemporaryDirectory()
        let certificate = try SelfSignedCertificate(in: dir)
        let server = try SMTPTestServer(arguments: ["--tls-cert", certificate.certificate, "--tls-key", certificate.key])
        let unverified = try TestCampaign(["ok-1"])
        let refused = try unverified.send(["--smtp", server.url])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("TLS"), "\(refused.stderr)")
        let verified = try TestCampaign(["ok-1"])
        let accepted = try verified.send(["--smtp", server.url, "--ca-file", certificate.certificate])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try server.received().count == 1)
    }

    @Test func refusalsOfTheSenderPauseTheCampaignAndNeverFailTheRecipient() throws {
        let server = try SMTPTestServer()
        let campaign = try TestCampaign((1...6).map { "policy-\($0)" } + ["ok-1"])
        let result = try campaign.send(["--smtp", server.url, "--connections", "1"])
        #expect(result.status == 3)
        #expect(result.stdout.contains("refused the sender"))
        #expect(result.stdout.contains("Access denied by policy"), "the pause quotes the server's reply")
        let states = try campaign.states()
        #expect(states.filter { $0.key.hasPrefix("policy-") }.values.allSatisfy { $0 == "deferred" || $0 == "queued" })
        #expect(!states.values.contains("failed"))
        #expect(try sqlite(campaign.db, "SELECT status FROM campaigns") == ["paused"])
    }
}
