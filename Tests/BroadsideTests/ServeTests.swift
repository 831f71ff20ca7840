import Foundation
import Testing
import TestSupport

/// `broadside serve` running as its own process, driven over real HTTP with curl.
final class ServeProcess {
    let port: Int
    let log: String
    private let process = Process()

    init(db: String, secret: String, log: String, host: String = "127.0.0.1", arguments: [String] = [], environment extra: [String: String] = [:]) throws {
        port = try freePort()
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = Command.broadside
        process.arguments = ["serve", "--listen", "\(host):\(port)", "--db", db] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["BROADSIDE_SECRET"] = secret
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        for _ in 0..<100 {
            if let status = (try? get("/"))?.status, status != 0 { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestSupportError("broadside serve did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    struct Answer { var status: Int; var headers: String; var body: String }

    func get(_ path: String, _ extra: [String] = []) throws -> Answer { try curl(path, extra) }
    func post(_ path: String, _ extra: [String]) throws -> Answer { try curl(path, ["-X", "POST"] + extra) }

    private func curl(_ path: String, _ extra: [String]) throws -> Answer {
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/curl"),
                                     ["-s", "-i", "--max-time", "5"] + extra + ["http://127.0.0.1:\(port)\(path)"])
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let status = parts.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return Answer(status: status, headers: parts.first ?? "", body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// A list imported into a fresh database, a template, and the SMTP test server to send to.
struct Mailing {
    static let secret = "a-long-random-test-secret"
    static let plainTemplate = "From: News <news@example.com>\nSubject: Hello\n\nHello.\n"

    let dir: TemporaryDirectory
    let db: String
    let smtp: SMTPTestServer
    let template: String

    init(csv: String, template text: String = Mailing.plainTemplate) throws {
        dir = try TemporaryDirectory()
        db = dir.path("b.sqlite")
        smtp = try SMTPTestServer()
        template = try dir.write("t.txt", text)
        let imported = try Command.broadside(["import", try dir.write("l.csv", csv), "--list", "l", "--db", db])
        guard imported.status == 0 else { throw TestSupportError(imported.stderr) }
    }

    /// Sends campaign `name` and returns each recipient's unsubscribe path (/u/TOKEN).
    func send(_ name: String) throws -> [String: String] {
        let before = try smtp.received().count
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", name, "--smtp", smtp.url, "--db", db,
                                          "--unsubscribe-url", "https://news.example.com/u/"], environment: ["BROADSIDE_SECRET": Self.secret])
        guard sent.status == 0 else { throw TestSupportError(sent.stderr) }
        var paths: [String: String] = [:]
        for message in try smtp.received().dropFirst(before) {
            // The header's link, read from the raw message (the headers are checked in DeliverabilityTests).
            guard let link = message.data.range(of: "List-Unsubscribe: <https://news.example.com/u/") else { throw TestSupportError("no link") }
            paths[message.rcpt_tos[0]] = "/u/" + message.data[link.upperBound...].prefix { $0 != ">" }
        }
        return paths
    }
}

@Suite("One-click unsubscribe and the dashboard (broadside serve)")
struct ServeTests {
    static let secret = Mailing.secret

    @Test func aOneClickPostSuppressesAGetDoesNotAndATamperedTokenIsRefused() throws {
        let mailing = try Mailing(csv: "email,name\nada@example.com,Ada\ngrace@example.org,Grace\nalan@example.net,Alan\n", template: "From: News <news@example.com>\nSubject: Hello {{ name }}\n\nDear {{ name }}.\n")
        let dir = mailing.dir, db = mailing.db
        let links = try mailing.send("first")
        let ada = try #require(links["ada@example.com"]), grace = try #require(links["grace@example.org"])
        #expect(ada.hasPrefix("/u/"))
        let server = try ServeProcess(db: db, secret: Self.secret, log: dir.path("serve.log"), arguments: ["--trust-loopback"])
        let suppressed = "SELECT address, reason, source, campaign_id FROM suppressions ORDER BY address"

        // A link scanner's GET changes nothing; the page offers a button that POSTs.
        let page = try server.get(ada)
        #expect(page.status == 200)
        #expect(page.body.contains("<form method=\"post\" action=\"\(ada)\">") && page.body.contains("id=\"unsubscribe\""))
        #expect(try sqlite(db, suppressed).isEmpty)

        // A tampered token, or no token of ours, is a 404 and changes nothing.
        var tampered = Array(ada)
        tampered[tampered.count - 2] = tampered[tampered.count - 2] == "0" ? "1" : "0"
        #expect(try server.post(String(tampered), ["-d", "List-Unsubscribe=One-Click"]).status == 404)
        #expect(try server.post("/u/nothing", ["-d", "List-Unsubscribe=One-Click"]).status == 404)
        #expect(try server.post(ada, []).status == 400, "a POST without the one-click body is not an unsubscribe")
        #expect(try sqlite(db, suppressed).isEmpty)

        // The one-click POST: 200, no redirect, no cookie; repeating it is harmless.
        let done = try server.post(ada, ["-d", "List-Unsubscribe=One-Click"])
        #expect(done.status == 200)
        #expect(!done.headers.lowercased().contains("set-cookie") && !done.headers.lowercased().contains("location:"))
        #expect(try server.post(ada, ["-d", "List-Unsubscribe=One-Click"]).status == 200)
        #expect(try server.post(grace, ["-F", "List-Unsubscribe=One-Click"]).status == 200, "multipart works too")
        #expect(try sqlite(db, suppressed) == ["ada@example.com|unsubscribed|one-click|1", "grace@example.org|unsubscribed|one-click|1"])

        // The next campaign skips them.
        let second = try mailing.send("second")
        #expect(Set(second.keys) == ["alan@example.net"])
        #expect(try sqlite(db, "SELECT recipient, state FROM messages WHERE campaign_id = 2 ORDER BY id")
                    == ["ada@example.com|skipped", "grace@example.org|skipped", "alan@example.net|accepted"])

        // The dashboard lists both campaigns with their counts, and each one's report.
        let dashboard = try server.get("/")
        #expect(dashboard.status == 200 && dashboard.body.contains(">first</a>") && dashboard.body.contains(">second</a>"))
        #expect(dashboard.body.contains("<td class=\"n\" data-state=\"skipped\">2</td>"))
        let report = try server.get("/campaigns/second")
        #expect(report.status == 200 && report.body.contains("second"))
        #expect(try server.get("/campaigns/nothing").status == 404)

        // One log line a request, and no token or address in it.
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        // (swift-log metadata: the route's pattern, never the token itself.)
        #expect(log.split(separator: "\n").contains { $0.contains("method=POST") && $0.contains("route=/u/{token}") && $0.contains("status=200") },
                "\(log)")
        #expect(log.split(separator: "\n").contains { $0.contains("route=/campaigns/{name}") && $0.contains("status=404") }, "\(log)")
        #expect(!log.contains(String(ada.dropFirst(3))) && !log.contains("ada@example.com"))
    }

    /// A token is bound to its database: one from a deleted database, under the same
    /// secret, unsubscribes nobody in a new database holding the same message id.
    @Test func aTokenFromAnotherDatabaseIsRefused() throws {
        let old = try Mailing(csv: "email\nold@old.test\n")
        let oldLink = try #require(try old.send("c")["old@old.test"])
        let new = try Mailing(csv: "email\nzoe@new.test\n")
        let newLink = try #require(try new.send("c")["zoe@new.test"])
        let server = try ServeProcess(db: new.db, secret: Self.secret, log: new.dir.path("serve.log"))
        #expect(try server.post(oldLink, ["-d", "List-Unsubscribe=One-Click"]).status == 404)
        #expect(try sqlite(new.db, "SELECT count(*) FROM suppressions") == ["0"])
        #expect(try server.post(newLink, ["-d", "List-Unsubscribe=One-Click"]).status == 200)
        #expect(try sqlite(new.db, "SELECT address FROM suppressions") == ["zoe@new.test"])
    }

    @Test func concurrentUnsubscribesAreAllKept() throws {
        let count = 200
        let mailing = try Mailing(csv: "email\n" + (1...count).map { "user\($0)@example.com\n" }.joined())
        let dir = mailing.dir, db = mailing.db
        let links = try mailing.send("c")
        #expect(links.count == count)
        let server = try ServeProcess(db: db, secret: Self.secret, log: dir.path("serve.log"))
        // 50 at a time: the server folds requests that arrive together into one transaction.
        let urls = links.values.flatMap { ["http://127.0.0.1:\(server.port)\($0)", "-o", "/dev/null"] }
        let posted = try Command.run(URL(fileURLWithPath: "/usr/bin/curl"),
                                     ["-s", "--parallel", "--parallel-max", "50", "-d", "List-Unsubscribe=One-Click", "-w", "%{http_code}\\n"] + urls)
        #expect(posted.stdout.split(separator: "\n").filter { $0 == "200" }.count == count, "\(posted.stdout.prefix(400))")
        #expect(try sqlite(db, "SELECT count(*), count(DISTINCT address) FROM suppressions WHERE source = 'one-click'") == ["\(count)|\(count)"])
    }

    @Test func unsubscribeRequestsByMailAreHonouredByBounceIntake() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\ngrace@example.org\nalan@example.net\n")
        let dir = mailing.dir, db = mailing.db, smtp = mailing.smtp, template = mailing.template
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--smtp", smtp.url, "--db", db,
                                          "--unsubscribe-mailto", "unsubscribe@example.com"], environment: ["BROADSIDE_SECRET": Self.secret])
        #expect(sent.status == 0, "\(sent.stderr)")
        var tokens: [String: String] = [:]
        for message in try smtp.received() {
            let link = try #require(message.data.range(of: "<mailto:unsubscribe@example.com?subject=unsubscribe%20"))
            tokens[message.rcpt_tos[0]] = String(message.data[link.upperBound...].prefix { $0 != ">" })
        }
        let ada = try #require(tokens["ada@example.com"]), grace = try #require(tokens["grace@example.org"])
        let alan = try #require(tokens["alan@example.net"])
        let mails = URL(fileURLWithPath: dir.path("mails"))
        try FileManager.default.createDirectory(at: mails, withIntermediateDirectories: true)
        // What a mail client sends for the mailto link; a tagged address; a forged token.
        try "From: ada@example.com\r\nTo: unsubscribe@example.com\r\nSubject: unsubscribe \(ada)\r\n\r\n\r\n"
            .write(to: mails.appendingPathComponent("1.eml"), atomically: true, encoding: .utf8)
        try "From: grace@example.org\r\nTo: <unsubscribe+\(grace)@example.com>\r\nSubject: please\r\n\r\nstop\r\n"
            .write(to: mails.appendingPathComponent("2.eml"), atomically: true, encoding: .utf8)
        try "From: x@example.net\r\nTo: unsubscribe@example.com\r\nSubject: unsubscribe \(alan.dropLast() + (alan.last == "0" ? "1" : "0"))\r\n\r\n\r\n"
            .write(to: mails.appendingPathComponent("3.eml"), atomically: true, encoding: .utf8)
        let intake = try Command.broadside(["bounces", "import", mails.path, "--db", db, "--json"], environment: ["BROADSIDE_SECRET": Self.secret])
        let summary = try JSONSerialization.jsonObject(with: Data(intake.stdout.utf8)) as? [String: Any]
        #expect(summary?["unsubscribed"] as? Int == 2, "\(intake.stdout) \(intake.stderr)")
        #expect((summary?["skipped"] as? [[String: Any]])?.count == 1, "the forged token is skipped")
        #expect(try sqlite(db, "SELECT address, source FROM suppressions ORDER BY address") == ["ada@example.com|mailto", "grace@example.org|mailto"])
    }

    @Test func beyondLoopbackTheDashboardAsksForTheAccessTokenButUnsubscribeNeverDoes() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\n")
        let dir = mailing.dir, db = mailing.db
        let link = try #require(try mailing.send("c")["ada@example.com"])
        let open = try ServeProcess(db: db, secret: Self.secret, log: dir.path("open.log"), host: "0.0.0.0")
        #expect(try open.get("/").status == 401, "no token given: no dashboard beyond loopback")
        #expect(try open.get("/campaigns/c").status == 401)
        #expect(try open.post(link, ["-d", "List-Unsubscribe=One-Click"]).status == 200, "RFC 8058: no authentication")

        let guarded = try ServeProcess(db: db, secret: Self.secret, log: dir.path("guarded.log"), host: "0.0.0.0",
                                       arguments: ["--access-token-env", "DASHBOARD_TOKEN"], environment: ["DASHBOARD_TOKEN": "s3cret-token"])
        #expect(try guarded.get("/").status == 401)
        #expect(try guarded.get("/", ["-H", "Authorization: Bearer wrong"]).status == 401)
        #expect(try guarded.get("/", ["-H", "Authorization: Bearer s3cret-token"]).status == 200)
        #expect(try guarded.get("/campaigns/c?token=s3cret-token").status == 200)
        #expect(!(try String(contentsOfFile: guarded.log, encoding: .utf8)).contains("s3cret-token"), "the token is never logged")
    }

    /// Behind a reverse proxy on the same machine every request comes from loopback: the
    /// dashboard asks for its token unless told the listener is private, and even then a
    /// request that came through a proxy (Forwarded, X-Forwarded-For) must show the token.
    @Test func onLoopbackTheDashboardStillAsksForTheTokenUnlessToldItIsPrivate() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\n")
        let dir = mailing.dir, db = mailing.db
        let link = try #require(try mailing.send("c")["ada@example.com"])
        let proxied = try ServeProcess(db: db, secret: Self.secret, log: dir.path("proxied.log"))
        #expect(try proxied.get("/").status == 401)
        #expect(try proxied.get("/campaigns/c").status == 401, "recipients' addresses are not public behind a proxy")
        #expect(try proxied.post(link, ["-d", "List-Unsubscribe=One-Click"]).status == 200)

        let trusted = try ServeProcess(db: db, secret: Self.secret, log: dir.path("trusted.log"), arguments: ["--trust-loopback"])
        #expect(try trusted.get("/").status == 200)
        #expect(try trusted.get("/campaigns/c", ["-H", "X-Forwarded-For: 203.0.113.9"]).status == 401)
        #expect(try trusted.get("/", ["-H", "Forwarded: for=203.0.113.9"]).status == 401)
    }

    /// 1,100 clients that send half a request line and wait must not take the server down:
    /// a one-click unsubscribe meanwhile answers at once, even under the usual soft limit of
    /// 1,024 open files; silent connections are closed after the idle timeout.
    @Test func slowClientsDoNotStopUnsubscribes() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\n")
        let link = try #require(try mailing.send("c")["ada@example.com"])
        let port = try freePort()
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "/bin/sh")
        serve.arguments = ["-c", "ulimit -S -n 1024 && exec \"$0\" serve --listen 127.0.0.1:\(port) --db \"$1\"", Command.broadside.path, mailing.db]
        var environment = ProcessInfo.processInfo.environment
        environment["BROADSIDE_SECRET"] = Self.secret
        serve.environment = environment
        serve.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        serve.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try serve.run()
        defer { kill(serve.processIdentifier, SIGKILL); serve.waitUntilExit() }
        let script = """
            import socket, subprocess, sys, time
            port, path = int(sys.argv[1]), sys.argv[2]
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port)).close(); break
                except OSError:
                    time.sleep(0.1)
            held = []
            for _ in range(1100):
                s = socket.create_connection(("127.0.0.1", port))
                s.send(b"GET /u/x HT")
                held.append(s)
            started = time.time()
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-X", "POST",
                                "-d", "List-Unsubscribe=One-Click", "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, text=True)
            print(r.stdout, round(time.time() - started, 2))
            time.sleep(12)
            closed = 0
            for s in held:
                s.settimeout(0.01)
                try:
                    if s.recv(1) == b"": closed += 1
                except (socket.timeout, BlockingIOError):
                    pass
                except OSError:
                    closed += 1
            print(closed)
            """
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, String(port), link])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("200 ") == true, "the unsubscribe answered: \(result.stdout) \(result.stderr)")
        #expect(Int(lines.dropFirst().first ?? "") == 1100, "silent connections are closed after the idle timeout: \(result.stdout)")
        #expect(try sqlite(mailing.db, "SELECT address FROM suppressions") == ["ada@example.com"])
    }

    /// Another process holds the database's write lock for 15 s (a long import or campaign
    /// creation): a one-click unsubscribe is still answered within moments, kept in the
    /// journal beside the database, survives a kill of `serve`, and reaches the database.
    @Test func anUnsubscribeWhileTheDatabaseIsBusyIsKeptAndApplied() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\n")
        let link = try #require(try mailing.send("c")["ada@example.com"])
        var server: ServeProcess? = try ServeProcess(db: mailing.db, secret: Self.secret, log: mailing.dir.path("serve.log"))
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('held',flush=True)\ntime.sleep(15)\nc.execute('ROLLBACK')", mailing.db]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        _ = output.fileHandleForReading.availableData   // "held"
        let asked = Date()
        let answer = try #require(server).post(link, ["-d", "List-Unsubscribe=One-Click", "--max-time", "8"])
        #expect(answer.status == 200, "answered once kept: \(answer.status)")
        #expect(Date().timeIntervalSince(asked) < 6, "not after the lock's 15 s")
        server = nil   // killed with the unsubscribe only in the journal
        #expect(FileManager.default.fileExists(atPath: mailing.db + "-unsubscribes"))
        holder.waitUntilExit()
        server = try ServeProcess(db: mailing.db, secret: Self.secret, log: mailing.dir.path("serve2.log"))
        var suppressed: [String] = []
        for _ in 0..<50 {
            suppressed = try sqlite(mailing.db, "SELECT address, source FROM suppressions")
            if !suppressed.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(suppressed == ["ada@example.com|one-click"])
        withExtendedLifetime(server) {}
    }

    /// Errors in one style: a taken port is one sentence, never `bind(descriptor:…)`.
    @Test func aTakenPortIsOneClearLine() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\n")
        let first = try ServeProcess(db: mailing.db, secret: Self.secret, log: mailing.dir.path("serve.log"))
        let second = try Command.broadside(["serve", "--listen", "127.0.0.1:\(first.port)", "--db", mailing.db],
                                           environment: ["BROADSIDE_SECRET": Self.secret])
        #expect(second.status == 3)
        #expect(second.stderr.contains("broadside: error: cannot serve on 127.0.0.1:\(first.port): something else is listening there"), "\(second.stderr)")
        #expect(!second.stderr.contains("bind("), "\(second.stderr)")
    }

    /// A campaign whose name holds a quote is linked percent-encoded, not HTML-escaped first (`&%2339;`), and the link works.
    @Test func aCampaignNameWithAQuoteIsLinkedRight() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\n")
        _ = try mailing.send("bob's sale")
        let server = try ServeProcess(db: mailing.db, secret: Self.secret, log: mailing.dir.path("serve.log"), arguments: ["--trust-loopback"])
        let page = try server.get("/")
        #expect(page.body.contains("href=\"/campaigns/bob%27s%20sale\""), "\(page.body)")
        #expect(try server.get("/campaigns/bob%27s%20sale").status == 200)
        _ = try mailing.send("十一月发票")
        let encoded = "/campaigns/%E5%8D%81%E4%B8%80%E6%9C%88%E5%8F%91%E7%A5%A8"
        #expect(try server.get("/").body.contains("href=\"\(encoded)\""))
        let report = try server.get(encoded)
        #expect(report.status == 200 && report.body.contains("十一月发票"), "\(report.status)")
    }

    /// The dashboard's totals: the suppression list's size, the latest unsubscribes, and per
    /// campaign what people did beside its states.
    @Test func theDashboardShowsTheSuppressionListAndRecentUnsubscribes() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\ngrace@example.org\n")
        let links = try mailing.send("spring")
        let server = try ServeProcess(db: mailing.db, secret: Self.secret, log: mailing.dir.path("serve.log"), arguments: ["--trust-loopback"])
        #expect(try server.post(try #require(links["grace@example.org"]), ["-d", "List-Unsubscribe=One-Click"]).status == 200)
        _ = try sqlite(mailing.db, "INSERT INTO suppressions (address, reason, source, created_at) VALUES ('old@example.net', 'manual', 'manual', 0)")
        let page = try server.get("/").body
        #expect(page.contains("suppression list<b>2</b>"), "\(page)")
        #expect(page.contains("<table id=\"unsubscribes\">") && page.contains("<td>grace@example.org</td><td>one-click</td><td>spring</td>"), "\(page)")
        #expect(!page.contains("<td>old@example.net</td>"), "a manual suppression is no unsubscribe")
        #expect(page.contains("<th>opened</th><th>clicked</th><th>replied</th>") && page.contains("<svg class=\"bar\""))
    }

    @Test func theDashboardSpeaksTheBrowsersLanguageOrTheOneAskedFor() throws {
        let mailing = try Mailing(csv: "email\nada@example.com\ngrace@example.org\n")
        _ = try mailing.send("十一月")
        let server = try ServeProcess(db: mailing.db, secret: Self.secret, log: mailing.dir.path("serve.log"), arguments: ["--trust-loopback"])
        let chinese = try server.get("/", ["-H", "Accept-Language: zh-CN,zh;q=0.9,en;q=0.8"]).body
        #expect(chinese.contains("<html lang=\"zh\">") && chinese.contains("<h1>活动</h1>"), "\(chinese.prefix(600))")
        #expect(chinese.contains("<th>已接收</th>") && chinese.contains("<td>已完成</td>") && chinese.contains("屏蔽名单"), "\(chinese)")
        #expect(chinese.contains(">十一月</a>"))
        let english = try server.get("/", ["-H", "Accept-Language: en-GB,en;q=0.9"]).body
        #expect(english.contains("<html lang=\"en\">") && english.contains("<th>accepted</th>") && english.contains("<td>finished</td>"))
        // Asked for in the address, the language wins over the browser's.
        let asked = try server.get("/?lang=en", ["-H", "Accept-Language: zh-CN"]).body
        #expect(asked.contains("<h1>Campaigns</h1>"))
        #expect(try server.get("/?lang=zh").body.contains("<h1>活动</h1>"))
    }

    static func browser(_ arguments: [String]) throws -> CommandResult {
        try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), [Repository.root.appendingPathComponent("scripts/browser.py").path] + arguments)
    }

    @Test func inABrowserTheButtonUnsubscribesAndTheDashboardFollowsASendingCampaign() throws {
        let count = 30
        let mailing = try Mailing(csv: "email\n" + (1...count).map { "user\($0)@example.com\n" }.joined())
        let dir = mailing.dir, db = mailing.db, smtp = mailing.smtp, template = mailing.template
        let link = try #require(try mailing.send("first")["user1@example.com"])
        let server = try ServeProcess(db: db, secret: Self.secret, log: dir.path("serve.log"), arguments: ["--trust-loopback"])

        // Headless Chromium opens the link, presses the button, sees the confirmation.
        let clicked = try Self.browser(["click", "http://127.0.0.1:\(server.port)\(link)", "unsubscribe"])
        #expect(clicked.stdout.contains("You are unsubscribed"), "\(clicked.stdout) \(clicked.stderr)")
        #expect(try sqlite(db, "SELECT address, source FROM suppressions") == ["user1@example.com|one-click"])

        // The dashboard, open while a second campaign sends at 5 a second, shows its count rising.
        nonisolated(unsafe) var watched = ""
        let done = DispatchSemaphore(value: 0)
        let dashboard = "http://127.0.0.1:\(server.port)/"
        DispatchQueue.global().async {
            let output = try? Self.browser(["watch", dashboard,
                                            "document.querySelectorAll('[data-state=accepted]')[1]?.textContent ?? ''", "10"])
            watched = (output?.stdout ?? "") + (output?.stderr ?? "")
            done.signal()
        }
        Thread.sleep(forTimeInterval: 1)
        let sent = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "second", "--smtp", smtp.url,
                                          "--db", db, "--rate", "5/s"])
        #expect(sent.status == 0, "\(sent.stderr)")
        done.wait()
        let counts = watched.split(separator: "\n").compactMap { Int(String($0)) }
        var seen: [Int] = []
        for value in counts where seen.last != value { seen.append(value) }
        #expect(seen.count >= 3, "several counts on the way: \(seen) \(watched.suffix(300))")
        #expect(seen == seen.sorted(), "never going back: \(seen)")
        #expect(seen.last == count - 1, "all but the unsubscribed one in the end: \(seen)")
    }

    @Test func theConfirmationPageSpeaksTheCampaignsLanguage() throws {
        let mailing = try Mailing(csv: "email,name\nli@example.cn,李雷\n", template: "From: 新闻 <news@example.com>\nSubject: 您好 {{ name }}\n\n亲爱的 {{ name }}，这是本月的新闻通讯，感谢您的订阅与支持。\n")
        let dir = mailing.dir, db = mailing.db
        let link = try #require(try mailing.send("zh")["li@example.cn"])
        let server = try ServeProcess(db: db, secret: Self.secret, log: dir.path("serve.log"))
        let page = try server.get(link)
        #expect(page.body.contains("<html lang=\"zh\">") && page.body.contains("退订"))
        #expect(try server.post(link, ["-d", "List-Unsubscribe=One-Click"]).body.contains("已退订"))
    }
}
