import Foundation
import Testing
import TestSupport

/// Built-in OAuth 2 sign-in (`broadside auth`, a profile's `oauth:` section), against a real
/// authorization server (Authlib) whose access tokens live a few seconds and whose refresh
/// tokens rotate, and the scripted SMTP server, which accepts XOAUTH2 only with a token that
/// server's introspection says is active for that mailbox.
@Suite("OAuth 2 built-in sign-in")
struct OAuthSignInTests {
    static let mailbox = "office@example.com"
    static let deviceClient = "broadside-device"

    /// A campaign, a configuration whose profile `office` signs in through `oauth`, and a
    /// configuration folder of its own (XDG_CONFIG_HOME) for the token file.
    struct Fixture {
        let campaign: TestCampaign
        let config: String
        let home: String
        let smtp: SMTPTestServer
        let signins: String

        init(count: Int, oauth: OAuthTestServer, section: String, preset: String = "exchange-online", profileExtra: String = "") throws {
            campaign = try TestCampaign(count: count)
            signins = campaign.dir.path("signins.jsonl")
            smtp = try SMTPTestServer(arguments: ["--xoauth2-introspect", oauth.introspectionURL, "--signins", signins])
            home = campaign.dir.path("config-home")
            config = try campaign.dir.write("broadside.yaml", """
                profiles:
                  office:
                    preset: \(preset)
                    smtp: \(smtp.url)
                    user: \(OAuthSignInTests.mailbox)
                    rate: 100/s
                \(profileExtra.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n"))
                    oauth:
                \(section.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n"))
                """)
        }

        var environment: [String: String] { ["XDG_CONFIG_HOME": home] }
        var tokenFile: String { "\(home)/broadside/tokens/office.json" }

        func broadside(_ arguments: [String], environment extra: [String: String] = [:]) throws -> CommandResult {
            try Command.broadside(arguments + ["--config", config], environment: environment.merging(extra) { $1 })
        }

        func send(_ extra: [String] = [], environment extra2: [String: String] = [:]) throws -> CommandResult {
            try Command.broadside(campaign.sendArguments + ["--profile", "office", "--config", config] + extra,
                                  environment: environment.merging(extra2) { $1 })
        }

        /// `auth login` for a device-code profile, with the test entering the code it shows.
        func deviceLogin(_ oauth: OAuthTestServer) throws -> CommandResult {
            try Command.broadside(["auth", "login", "--profile", "office", "--config", config], environment: environment) { line in
                if let range = line.range(of: "enter the code ") {
                    try? oauth.approve(userCode: String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces))
                }
            }
        }

        func storedTokens() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokenFile))) as? [String: Any] ?? [:]
        }
    }

    static func microsoftSection(_ oauth: OAuthTestServer, client: String = deviceClient, extra: String = "") -> String {
        "provider: microsoft\ntenant: contoso.onmicrosoft.com\nauthority: \(oauth.url)\nclient_id: \(client)\n\(extra)"
    }

    /// Every place a token must never be: the database (and its WAL), the in-flight log, the output.
    static func expectNoToken(_ tokens: [String], in fixture: Fixture, output: CommandResult, psOutput: String = "") throws {
        var places: [(String, Data)] = [("stdout", Data(output.stdout.utf8)), ("stderr", Data(output.stderr.utf8)), ("ps", Data(psOutput.utf8))]
        for file in try FileManager.default.contentsOfDirectory(atPath: fixture.campaign.dir.url.path) where file.hasPrefix("b.sqlite") {
            places.append((file, (try? Data(contentsOf: fixture.campaign.dir.url.appendingPathComponent(file))) ?? Data()))
        }
        for token in tokens {
            for (place, data) in places {
                #expect(data.range(of: Data(token.utf8)) == nil, "a token is in \(place)")
            }
        }
    }

    @Test func deviceLoginKeepsTheTokensInAPrivateFileAndStatusShowsThem() throws {
        let oauth = try OAuthTestServer(arguments: ["--public-client", Self.deviceClient])
        let fixture = try Fixture(count: 1, oauth: oauth, section: Self.microsoftSection(oauth, extra: ""))
        let login = try fixture.deviceLogin(oauth)
        #expect(login.status == 0, "\(login.stdout)\(login.stderr)")
        #expect(login.stderr.contains("\(oauth.url)/device"), "the person is told where to go: \(login.stderr)")
        #expect(login.stdout.contains("Signed in profile 'office' as office@example.com"), "\(login.stdout)")

        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.tokenFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: fixture.tokenFile).deletingLastPathComponent().path)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        let issued = try oauth.issued()
        #expect(issued.map(\.grant_type) == ["urn:ietf:params:oauth:grant-type:device_code"])
        let stored = try fixture.storedTokens()
        #expect(stored["refresh_token"] as? String == issued[0].refresh_token)
        #expect((stored["scopes"] as? [String]) == ["https://outlook.office.com/SMTP.Send", "offline_access"])
        #expect(!login.stdout.contains(issued[0].access_token) && !login.stderr.contains(issued[0].refresh_token ?? "-"))

        let status = try fixture.broadside(["auth", "status", "--profile", "office"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("account: office@example.com"), "\(status.stdout)")
        #expect(status.stdout.contains("scopes: https://outlook.office.com/SMTP.Send offline_access"), "\(status.stdout)")
        #expect(status.stdout.contains("access token: expires in"), "\(status.stdout)")
        #expect(!status.stdout.contains(issued[0].access_token))

        let logout = try fixture.broadside(["auth", "logout", "--profile", "office"])
        #expect(logout.status == 0)
        #expect(!FileManager.default.fileExists(atPath: fixture.tokenFile))
        #expect(try fixture.broadside(["auth", "status", "--profile", "office"]).stdout.contains("not signed in: broadside auth login --profile office"))
    }

    /// The issue's proof: a campaign longer than three token lifetimes ends with every
    /// message accepted, none deferred or failed for sign-in reasons, each rotated refresh
    /// token saved as it came, the renewals counted, and no token anywhere it must not be.
    @Test func aCampaignLongerThanThreeTokenLifetimesRenewsFromTheRefreshToken() throws {
        let oauth = try OAuthTestServer(lifetime: 3, arguments: ["--public-client", Self.deviceClient])
        let fixture = try Fixture(count: 60, oauth: oauth, section: Self.microsoftSection(oauth))
        #expect(try fixture.deviceLogin(oauth).status == 0)

        // `ps` is sampled while the send runs: no token on any command line.
        let sending = try Command.startBroadside(fixture.campaign.sendArguments + ["--profile", "office", "--config", fixture.config,
                                                 "--rate", "5/s", "--connections", "2", "--messages-per-connection", "5"],
                                                capturingOutput: true, environment: fixture.environment)
        var psOutput = ""
        while sending.isRunning {
            psOutput += try Command.run(URL(fileURLWithPath: "/bin/ps"), ["-eo", "args"]).stdout
            Thread.sleep(forTimeInterval: 1)
        }
        let stdout = sending.readOutput()
        #expect(sending.wait() == 0, "\(stdout)")
        #expect(try fixture.smtp.received().count == 60)
        #expect(try sqlite(fixture.campaign.db, "SELECT state, count(*) FROM messages GROUP BY state") == ["accepted|60"])
        #expect(try sqlite(fixture.campaign.db, "SELECT count(*) FROM events WHERE state IN ('deferred', 'failed')") == ["0"])

        let issued = try oauth.issued()
        let refreshes = issued.filter { $0.grant_type == "refresh_token" }
        // About 12 s of sending, connections signing in every 2 s with tokens of 3 s: the
        // login's token and at least two renewed ones, each from the latest refresh token.
        let elapsed = try #require((try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])?["elapsed_s"] as? Double)
        #expect(elapsed > 9, "the campaign lasted longer than three token lifetimes")
        #expect(refreshes.count >= 2, "\(issued.map(\.grant_type))")
        #expect(try fixture.storedTokens()["refresh_token"] as? String == issued.last?.refresh_token, "the rotated refresh token was saved")
        let signins = try String(contentsOfFile: fixture.signins, encoding: .utf8).split(separator: "\n")
        // Tokens are renewed before they lapse: a connection signs in with a fresh one. (A
        // machine stalled for longer than the renewal margin, 0.3 s of a 3 s token, between
        // taking a token and the server checking it would see one refused and renewed: at most
        // two such are allowed, so that a loaded CI machine does not fail the test.)
        let refused = signins.filter { !$0.contains("\"accepted\": true") }.count
        #expect(signins.count >= 12 && refused <= 2, "\(refused) of \(signins.count) sign-ins refused: \(signins)")
        let tokens = issued.flatMap { [$0.access_token] + ($0.refresh_token.map { [$0] } ?? []) }
        try Self.expectNoToken(tokens, in: fixture, output: CommandResult(status: 0, stdout: stdout, stderr: ""), psOutput: psOutput)
    }

    @Test func theRenewalsAreReportedAtTheEndOfTheRun() throws {
        let oauth = try OAuthTestServer(lifetime: 2, arguments: ["--public-client", Self.deviceClient])
        let fixture = try Fixture(count: 12, oauth: oauth, section: Self.microsoftSection(oauth))
        #expect(try fixture.deviceLogin(oauth).status == 0)
        Thread.sleep(forTimeInterval: 2.1)   // the login's access token has expired: the run's first token is not a renewal
        let sent = try fixture.send(["--rate", "2/s", "--connections", "1", "--messages-per-connection", "2"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let refreshes = try oauth.issued().filter { $0.grant_type == "refresh_token" }.count
        // The first token of the run replaces the login's expired one; every later one is a renewal.
        #expect(sent.stderr.contains("the OAuth 2 token was renewed \(refreshes - 1) time"), "\(refreshes) refreshes: \(sent.stderr)")
        let tokens = try oauth.issued().flatMap { [$0.access_token] + ($0.refresh_token.map { [$0] } ?? []) }
        try Self.expectNoToken(tokens, in: fixture, output: sent)
    }

    /// A revoked refresh token stops `send` before anything is written, exit 3, saying what to run.
    @Test func aRevokedRefreshTokenStopsTheSendBeforeAnythingChanges() throws {
        let oauth = try OAuthTestServer(lifetime: 1, arguments: ["--public-client", Self.deviceClient])
        let fixture = try Fixture(count: 5, oauth: oauth, section: Self.microsoftSection(oauth))
        #expect(try fixture.deviceLogin(oauth).status == 0)
        let refreshToken = try #require(try fixture.storedTokens()["refresh_token"] as? String)
        try oauth.revoke(refreshToken, client: Self.deviceClient)
        Thread.sleep(forTimeInterval: 1.2)   // the access token from the login expires too

        let sent = try fixture.send()
        #expect(sent.status == 3, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stderr.contains("broadside auth login --profile office"), "\(sent.stderr)")
        #expect(sent.stderr.split(separator: "\n").count == 1, "one line: \(sent.stderr)")
        #expect(try sqlite(fixture.campaign.db, "SELECT count(*) FROM campaigns") == ["0"], "no campaign was created")
        #expect(try fixture.smtp.received().isEmpty)
    }

    /// An application sending as a mailbox (client credentials): a secret from the
    /// environment, or a certificate's key signing a client assertion.
    @Test func anApplicationSignsInWithASecretOrACertificate() throws {
        let directory = try TemporaryDirectory()
        let certificate = try SelfSignedCertificate(in: directory)
        let publicKey = directory.path("public.pem")
        #expect(try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), ["x509", "-in", certificate.certificate, "-pubkey", "-noout", "-out", publicKey]).status == 0)
        let oauth = try OAuthTestServer(arguments: ["--secret-client", "app-secret:s3cr3t-value", "--certificate-client", "app-cert:\(publicKey)"])

        let withSecret = try Fixture(count: 3, oauth: oauth, section: Self.microsoftSection(oauth, client: "app-secret", extra: "flow: application\nclient_secret_env: APP_SECRET"))
        let sent = try withSecret.send(environment: ["APP_SECRET": "s3cr3t-value"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(try withSecret.smtp.received().count == 3)
        #expect(!sent.stdout.contains("s3cr3t-value") && !sent.stderr.contains("s3cr3t-value"))
        let wrong = try Fixture(count: 3, oauth: oauth, section: Self.microsoftSection(oauth, client: "app-secret", extra: "flow: application\nclient_secret_env: APP_SECRET"))
        let refused = try wrong.send(environment: ["APP_SECRET": "not-it"])
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(try sqlite(wrong.campaign.db, "SELECT count(*) FROM campaigns") == ["0"])

        let withCertificate = try Fixture(count: 3, oauth: oauth, section: Self.microsoftSection(oauth, client: "app-cert", extra: """
            flow: application
            certificate_file: \(certificate.certificate)
            certificate_key_file: \(certificate.key)
            """))
        let login = try withCertificate.broadside(["auth", "login", "--profile", "office"])
        #expect(login.status == 0, "\(login.stderr)")
        let byCertificate = try withCertificate.send()
        #expect(byCertificate.status == 0, "\(byCertificate.stdout)\(byCertificate.stderr)")
        #expect(try withCertificate.smtp.received().count == 3)
        #expect(try oauth.issued().filter { $0.client_id == "app-cert" }.allSatisfy { $0.grant_type == "client_credentials" })
    }

    /// Google Workspace: a service account with domain-wide delegation names the mailbox;
    /// the server accepts its token only for that mailbox.
    @Test func aGoogleServiceAccountSendsAsTheMailboxItNames() throws {
        let directory = try TemporaryDirectory()
        let key = directory.path("sa.key"), publicKey = directory.path("sa.pub")
        #expect(try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]).status == 0)
        #expect(try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), ["pkey", "-in", key, "-pubout", "-out", publicKey]).status == 0)
        let issuer = "mailer@project.iam.gserviceaccount.com"
        let oauth = try OAuthTestServer(arguments: ["--service-account", "\(issuer):\(publicKey)"])
        let keyFile = directory.path("sa.json")
        let json = try JSONSerialization.data(withJSONObject: ["type": "service_account", "client_email": issuer,
                                                               "private_key": try String(contentsOfFile: key, encoding: .utf8),
                                                               "token_uri": "https://oauth2.googleapis.com/token"])
        try json.write(to: URL(fileURLWithPath: keyFile))
        let fixture = try Fixture(count: 4, oauth: oauth, section: "flow: service_account\nservice_account_file: \(keyFile)\nauthority: \(oauth.url)",
                                  preset: "google-workspace")
        let sent = try fixture.send()
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(try fixture.smtp.received().count == 4)
        #expect(try oauth.issued().map(\.user) == [Self.mailbox], "the token names the mailbox as its subject")
    }

    /// The browser sign-in: the address printed is opened (curl plays the browser), the
    /// platform redirects to Broadside's loopback port, and the code is exchanged with PKCE.
    @Test func aBrowserLoginComesBackToALoopbackPort() throws {
        let oauth = try OAuthTestServer(arguments: ["--installed-app", "desktop-app:not-secret-for-installed-apps"])
        let fixture = try Fixture(count: 2, oauth: oauth, section: "flow: browser\nclient_id: desktop-app\nclient_secret_env: GOOGLE_SECRET\nauthority: \(oauth.url)",
                                  preset: "gmail")
        let login = try Command.broadside(["auth", "login", "--profile", "office", "--config", fixture.config],
                                          environment: fixture.environment.merging(["GOOGLE_SECRET": "not-secret-for-installed-apps"]) { $1 }) { line in
            if line.hasPrefix("http://127.0.0.1:\(oauth.port)/o/oauth2/v2/auth?") {
                _ = try? Command.run(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-L", line])
            }
        }
        #expect(login.status == 0, "\(login.stdout)\(login.stderr)")
        #expect(try oauth.issued().map(\.grant_type) == ["authorization_code"])
        #expect(try fixture.storedTokens()["refresh_token"] as? String != nil)
        let sent = try fixture.send(environment: ["GOOGLE_SECRET": "not-secret-for-installed-apps"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(try fixture.smtp.received().count == 2)
    }

    /// `bounces fetch --profile` signs in to the bounce mailbox with the profile's OAuth sign-in
    /// (XOAUTH2 over IMAP), against Dovecot checking each token with the same introspection.
    @Test func bouncesAreFetchedOverIMAPWithTheSameSignIn() throws {
        let oauth = try OAuthTestServer(lifetime: 2, arguments: ["--public-client", Self.deviceClient])
        let imap = try IMAPTestServer(user: Self.mailbox, introspection: oauth.introspectionURL)
        let fixture = try Fixture(count: 2, oauth: oauth, section: Self.microsoftSection(oauth), profileExtra: "bounce_mailbox: \(imap.url)")
        let login = try fixture.deviceLogin(oauth)
        #expect(login.status == 0, "\(login.stderr)")
        #expect((try fixture.storedTokens()["scopes"] as? [String])?.contains("https://outlook.office.com/IMAP.AccessAsUser.All") == true,
                "a profile that reads bounces asks for IMAP")
        #expect(try fixture.send().status == 0)
        let messageID = try #require(try sqlite(fixture.campaign.db, "SELECT message_id FROM messages WHERE recipient = 'user1@example.com'").first)
        try imap.deliver(BounceTests.dsn(to: "user1@example.com", status: "5.1.1", diagnostic: "550 5.1.1 User unknown", messageID: messageID), name: "1.eml")
        Thread.sleep(forTimeInterval: 2.1)   // the token in the file has expired: the fetch renews it first

        let fetched = try fixture.broadside(["bounces", "fetch", "--profile", "office", "--db", fixture.campaign.db, "--json"])
        #expect(fetched.status == 0, "\(fetched.stdout)\(fetched.stderr)")
        #expect(fetched.stdout.contains("\"matched\":1"), "\(fetched.stdout)")
        #expect(try sqlite(fixture.campaign.db, "SELECT state FROM messages WHERE recipient = 'user1@example.com'") == ["bounced"])

        // Dovecot really checks: a token the authorization server never issued does not get in.
        let forged = try Command.run(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "--login-options", "AUTH=XOAUTH2", "--oauth2-bearer", "forged-token",
                                                                             "-u", "\(Self.mailbox):", imap.url])
        #expect(forged.status != 0, "\(forged.stdout)")

        // A revoked sign-in stops the fetch with what to run.
        try oauth.revoke(try #require(try fixture.storedTokens()["refresh_token"] as? String), client: Self.deviceClient)
        Thread.sleep(forTimeInterval: 2.1)
        let refused = try fixture.broadside(["bounces", "fetch", "--profile", "office", "--db", fixture.campaign.db, "--json"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("broadside auth login --profile office"), "\(refused.stderr)")
    }

    /// Two runs of the same profile renewing at once (a send and a bounce fetch, two
    /// campaigns) share one renewal: the platform rotates refresh tokens and revokes the
    /// spent one, so a second refresh with it would be refused and stop that run.
    @Test func twoRunsRenewingAtOnceDoNotSpendTheSameRefreshToken() throws {
        let oauth = try OAuthTestServer(lifetime: 1, arguments: ["--public-client", Self.deviceClient, "--answer-delay", "0.5"])
        let first = try Fixture(count: 3, oauth: oauth, section: Self.microsoftSection(oauth))
        let second = try Fixture(count: 3, oauth: oauth, section: Self.microsoftSection(oauth))
        #expect(try first.deviceLogin(oauth).status == 0)
        for round in 1...3 {
            Thread.sleep(forTimeInterval: 1.1)   // the access token in the file has expired: both runs renew
            let runs = try [first, second].map { fixture in
                try Command.startBroadside(fixture.campaign.sendArguments.map { $0 == "c" ? "c\(round)" : $0 }
                                           + ["--profile", "office", "--config", fixture.config], capturingOutput: true,
                                           environment: first.environment)
            }
            let statuses = runs.map { run in (run.readOutput(), run.wait()) }
            #expect(statuses.allSatisfy { $0.1 == 0 }, "round \(round): \(statuses)")
        }
        #expect(try first.smtp.received().count == 9 && second.smtp.received().count == 9)
    }

    @Test func aSendWithoutLoginSaysWhatToRun() throws {
        let oauth = try OAuthTestServer(arguments: ["--public-client", Self.deviceClient])
        let fixture = try Fixture(count: 2, oauth: oauth, section: Self.microsoftSection(oauth))
        let sent = try fixture.send()
        #expect(sent.status == 3)
        #expect(sent.stderr.contains("is not signed in") && sent.stderr.contains("broadside auth login --profile office"), "\(sent.stderr)")
        #expect(try sqlite(fixture.campaign.db, "SELECT count(*) FROM campaigns") == ["0"])
    }

    @Test func aTokenFileOthersCanReadIsNotUsed() throws {
        let oauth = try OAuthTestServer(arguments: ["--public-client", Self.deviceClient])
        let fixture = try Fixture(count: 2, oauth: oauth, section: Self.microsoftSection(oauth))
        #expect(try fixture.deviceLogin(oauth).status == 0)
        chmod(fixture.tokenFile, 0o644)
        let sent = try fixture.send()
        #expect(sent.status == 3)
        #expect(sent.stderr.contains("chmod 600"), "\(sent.stderr)")
    }

    @Test func secretsAndImpossibleFlowsInTheConfigurationAreRefused() throws {
        let oauth = try OAuthTestServer(arguments: [])
        for (section, preset, says) in [
            ("client_id: x\nclient_secret: hunter2", "exchange-online", "secrets never live in files"),
            ("client_id: x\nflow: device", "gmail", "Google's device flow does not allow the Gmail scope"),
            ("client_id: x\nflow: application\nclient_secret_env: S", "exchange-online", "set tenant"),
            ("client_id: x\nflow: devise", "exchange-online", "flow 'devise' is not one of"),
            ("client_id: x\nclient_secert_env: S", "exchange-online", "did you mean 'client_secret_env'"),
        ] {
            let fixture = try Fixture(count: 1, oauth: oauth, section: "authority: \(oauth.url)\n" + section, preset: preset)
            let result = try fixture.send()
            #expect(result.status == 2, "\(section): \(result.stderr)")
            #expect(result.stderr.contains(says), "\(section): \(result.stderr)")
        }
    }
}
