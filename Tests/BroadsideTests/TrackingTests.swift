import Foundation
import Signing
import Testing
import TestSupport

/// Click and open tracking (`send --track clicks,opens`, answered by `serve`): sent through
/// the SMTP test server, clicked by headless Chromium and by recorded-style machine requests.
@Suite("Clicks and opens")
struct TrackingTests {
    /// A web server the recipients' links point at, recording the paths it is asked for.
    final class LandingServer {
        let port: Int
        let log: String
        private let process = Process()
        private let lifeline = Pipe()

        init(dir: TemporaryDirectory) throws {
            log = dir.path("landing.log")
            let script = try dir.write("landing.py", """
                import http.server, sys, threading, os
                log = sys.argv[1]
                class H(http.server.BaseHTTPRequestHandler):
                    def do_GET(self):
                        open(log, "a").write(self.path + "\\n")
                        self.send_response(200); self.send_header("Content-Type", "text/html"); self.end_headers()
                        self.wfile.write(b"<html><body>landed</body></html>")
                    def log_message(self, *a): pass
                s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
                print("PORT %d" % s.server_port, flush=True)
                threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
                s.serve_forever()
                """)
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script, log]
            process.standardOutput = output
            process.standardInput = lifeline
            try process.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            guard let port = Int(line.dropFirst(5).prefix { $0.isNumber }) else { throw TestSupportError("landing server: \(line)") }
            self.port = port
        }

        var paths: [String] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    static let chromeAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

    struct Fixture {
        let mailing: Mailing
        let serve: ServeProcess
        let landing: LandingServer
        /// The landing server's folder (its log).
        let landingDir: TemporaryDirectory
        /// Each recipient's HTML part, as received.
        let html: [String: String]

        init() throws {
            landingDir = try TemporaryDirectory()
            landing = try LandingServer(dir: landingDir)
            let template = """
                From: News <news@example.com>
                To: {{ name }} <{{ email }}>
                Subject: Your order {{ id }}
                Content-Type: text/html

                <html><body><p>Hello {{ name }},</p>
                <p><a href="http://127.0.0.1:\(landing.port)/order?id={{ id }}&amp;from=mail">your order</a></p>
                <p><a href="https://example.com/about">about us</a> <a href="mailto:help@example.com">help</a>
                <a data-notrack href="https://example.com/private">private</a>
                <a href="{{ unsubscribe_url }}">unsubscribe</a></p></body></html>
                """
            mailing = try Mailing(csv: "email,name,id\nann@example.com,Ann,7\nbob@example.com,Bob,8\n", template: template)
            serve = try ServeProcess(db: mailing.db, secret: Mailing.secret, log: mailing.dir.path("serve.log"))
            let base = "http://127.0.0.1:\(serve.port)"
            let sent = try Command.broadside(["send", "--template", mailing.template, "--list", "l", "--campaign", "c", "--smtp", mailing.smtp.url,
                                              "--db", mailing.db, "--track", "clicks,opens", "--public-url", base, "--unsubscribe-url", "\(base)/u/"],
                                             environment: ["BROADSIDE_SECRET": Mailing.secret])
            guard sent.status == 0 else { throw TestSupportError(sent.stderr) }
            var html: [String: String] = [:]
            for message in try mailing.smtp.received() {
                html[message.rcpt_tos[0]] = try PythonEmail.parse(Array(message.data.utf8)).html ?? ""
            }
            self.html = html
        }

        func hrefs(_ recipient: String) -> [String] {
            (html[recipient] ?? "").components(separatedBy: "href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        }

        /// The tracking rows once the server has written them (it writes in batches).
        func events(count: Int) throws -> [String] {
            var rows: [String] = []
            for _ in 0..<50 {
                rows = try sqlite(mailing.db, "SELECT m.recipient, t.kind, coalesce(t.link, ''), t.machine, t.agent FROM tracking_events t JOIN messages m ON m.id = t.message_id ORDER BY t.id")
                if rows.count >= count { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return rows
        }
    }

    @Test func linksGoThroughServeToTheRecipientsOwnDestination() throws {
        let fixture = try Fixture()
        let base = "http://127.0.0.1:\(fixture.serve.port)"
        let links = fixture.hrefs("ann@example.com")
        #expect(links.count == 5)
        #expect(links[0].hasPrefix("\(base)/c/") && links[1].hasPrefix("\(base)/c/"), "\(links)")
        #expect(links[2] == "mailto:help@example.com" && links[3] == "https://example.com/private", "mailto and opted-out links stay")
        #expect(links[4].hasPrefix("\(base)/u/"), "the unsubscribe link stays")
        #expect(fixture.html["ann@example.com"]?.contains("<img src=\"\(base)/o/") == true, "the open image")
        // The messages were delivered an hour ago (a click seconds after delivery is a scanner's).
        _ = try sqlite(fixture.mailing.db, "UPDATE events SET at = at - 3600")

        // Headless Chromium opens Ann's message and clicks her first link.
        let page = try fixture.mailing.dir.write("ann.html", (fixture.html["ann@example.com"] ?? "")
            + "<script>window.onload = () => document.querySelector('a').click()</script>")
        let chromium = try Command.run(URL(fileURLWithPath: "/usr/bin/chromium"), [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-agent=\(Self.chromeAgent)", "--virtual-time-budget=5000",
            "--dump-dom", "file://\(page)",
        ])
        let error = chromium.stdout.components(separatedBy: "ERR_").dropFirst().first?.prefix(40) ?? ""
        #expect(chromium.stdout.contains("landed"), "the browser landed (error ERR_\(error)); serve said: \((try? String(contentsOfFile: fixture.serve.log, encoding: .utf8)) ?? "")")
        #expect(fixture.landing.paths.filter { $0 != "/favicon.ico" } == ["/order?id=7&from=mail"], "Ann's own order, her values, the entity decoded")

        let rows = try fixture.events(count: 2)
        #expect(rows.contains("ann@example.com|open||0|Chrome"), "\(rows)")
        #expect(rows.contains("ann@example.com|click|0|0|Chrome"), "\(rows)")
        #expect(rows.count == 2, "\(rows)")

        // Forgetting Ann takes her opens and clicks with her.
        let forgot = try Command.broadside(["forget", "ann@example.com", "--db", fixture.mailing.db])
        #expect(forgot.status == 0, "\(forgot.stderr)")
        #expect(forgot.stdout.contains("2 open(s) and click(s)"), "\(forgot.stdout)")
        #expect(try sqlite(fixture.mailing.db, "SELECT count(*) FROM tracking_events") == ["0"])
    }

    @Test func forgedTamperedAndForeignTokensAre404AndRecordNothing() throws {
        let fixture = try Fixture()
        let link = try #require(fixture.hrefs("bob@example.com").first)
        let path = String(link.dropFirst("http://127.0.0.1:\(fixture.serve.port)".count))
        let token = String(path.dropFirst(3))
        let parts = token.split(separator: ".")
        let tampered = "\(parts[0]).\(parts[1]).1.\(parts[3])"
        let signer = TrackingToken(secret: Mailing.secret, database: try sqlite(fixture.mailing.db, "SELECT id FROM database_identity").first ?? "")
        let beyond = signer.click(campaign: Int64(parts[0])!, message: Int64(parts[1])!, link: 9)
        let foreign = TrackingToken(secret: "another-secret").click(campaign: Int64(parts[0])!, message: Int64(parts[1])!, link: 0)
        let openAsClick = signer.open(campaign: Int64(parts[0])!, message: Int64(parts[1])!)
        for bad in ["/c/1.1.0.deadbeefdeadbeef", "/c/\(tampered)", "/c/\(beyond)", "/c/\(foreign)", "/c/\(openAsClick)", "/o/\(token).gif", "/c/", "/o/x.gif"] {
            #expect(try fixture.serve.get(bad).status == 404, "\(bad)")
        }
        #expect(try fixture.serve.get(path).status == 302, "the real one still works")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try fixture.events(count: 1).count == 1, "only the real click is recorded")
    }

    /// Requests as prefetchers, scanners and link checkers make them are recorded as machines, by rule.
    @Test func machinesAreRecordedApartByTheRuleThatNamedThem() throws {
        let fixture = try Fixture()
        let base = "http://127.0.0.1:\(fixture.serve.port)"
        let bob = fixture.hrefs("bob@example.com").map { String($0.dropFirst(base.count)) }
        let image = try #require(fixture.html["bob@example.com"]?.components(separatedBy: "<img src=\"\(base)").last?.prefix { $0 != "\"" })
        // Just delivered: a browser-like click within seconds is a scanner's.
        #expect(try fixture.serve.get(bob[1], ["-A", Self.chromeAgent]).status == 302)
        _ = try sqlite(fixture.mailing.db, "UPDATE events SET at = at - 3600")
        let restarted = try ServeProcess(db: fixture.mailing.db, secret: Mailing.secret, log: fixture.mailing.dir.path("serve2.log"))
        #expect(try restarted.get(String(image), ["-A", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"]).status == 200)
        #expect(try restarted.get(String(image), ["-A", "Mozilla/5.0"]).status == 200)
        #expect(try restarted.get(bob[0], ["-I", "-A", Self.chromeAgent]).status == 302)
        #expect(try restarted.get(bob[0], ["-A", "python-requests/2.31.0"]).status == 302)
        #expect(try restarted.get(bob[0], ["-A", Self.chromeAgent]).status == 302)
        #expect(try restarted.get(bob[1], ["-A", Self.chromeAgent]).status == 302)   // a second link 0.1 s later: every link at once
        let rows = try fixture.events(count: 7)
        #expect(rows == [
            "bob@example.com|click|1|1|clicked within seconds of delivery",
            "bob@example.com|open||1|Google image proxy",
            "bob@example.com|open||1|Apple Mail Privacy Protection",
            "bob@example.com|click|0|1|HEAD request",
            "bob@example.com|click|0|1|program, not a browser",
            "bob@example.com|click|0|0|Chrome",
            "bob@example.com|click|1|1|every link at once",
        ], "\(rows)")
        #expect(fixture.landing.paths.isEmpty, "curl does not follow the redirects")

        // The report counts people and machines apart; each figure against a direct count.
        let report = try Command.broadside(["report", "c", "--json", "--db", fixture.mailing.db])
        #expect(report.status == 0, "\(report.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let engagement = try #require(json["engagement"] as? [String: Any])
        func count(_ sql: String) throws -> Int { Int(try sqlite(fixture.mailing.db, sql).first ?? "") ?? -1 }
        let peopleClickers = try count("SELECT count(DISTINCT message_id) FROM tracking_events WHERE kind = 'click' AND machine = 0")
        let peopleOpeners = try count("SELECT count(DISTINCT message_id) FROM tracking_events WHERE machine = 0")
        #expect(engagement["unique_clicks"] as? Int == peopleClickers && peopleClickers == 1)
        #expect(engagement["unique_opens"] as? Int == peopleOpeners && peopleOpeners == 1, "a person's click counts as an open")
        #expect(engagement["delivered"] as? Int == 2)
        #expect(engagement["open_rate"] as? Double == 0.5 && engagement["click_to_open_rate"] as? Double == 1)
        let machines = try #require(engagement["machines"] as? [String: Any])
        #expect(machines["requests"] as? Int == (try count("SELECT count(*) FROM tracking_events WHERE machine = 1")))
        #expect((machines["by_rule"] as? [String: Int])?["HEAD request"] == 1)
        let links = try #require(engagement["links"] as? [[String: Any]])
        #expect(links.map { $0["link"] as? Int } == [0, 1])
        #expect(links.map { $0["clicks"] as? Int } == [1, 0])
        #expect(links.map { $0["machine_requests"] as? Int } == [2, 2])
        #expect(links.first?["destination"] as? String == "http://127.0.0.1:\(fixture.landing.port)/order", "no recipient's values in the report")
        #expect(links.last?["destination"] as? String == "https://example.com/about")
        let domains = try #require(json["domains"] as? [[String: Any]])
        #expect(domains.first { $0["domain"] as? String == "example.com" }?["opened"] as? Int == 1, "per domain: \(domains)")
        #expect(domains.first { $0["domain"] as? String == "example.com" }?["clicked"] as? Int == 1)
        let table = try Command.broadside(["report", "c", "--db", fixture.mailing.db])
        #expect(table.stdout.contains("People: opened 1 (50.00%) · clicked 1 (50.00%) · click-to-open 100.00%"), "\(table.stdout)")
        #expect(table.stdout.contains("Machines (not counted above): 6 requests"), "\(table.stdout)")
    }

    /// `--track clicks,text`: the text part's links go through serve too, numbered apart.
    @Test func textLinksAreTrackedWhenAsked() throws {
        let landingDir = try TemporaryDirectory()
        let landing = try LandingServer(dir: landingDir)
        let mailing = try Mailing(csv: "email,id\nann@example.com,7\n", template: """
            From: News <news@example.com>
            Subject: Your order

            Your order is at http://127.0.0.1:\(landing.port)/order?id={{ id }}.
            Questions: write to help@example.com or see https://example.com/help, any time.
            """)
        let serve = try ServeProcess(db: mailing.db, secret: Mailing.secret, log: mailing.dir.path("serve.log"))
        let base = "http://127.0.0.1:\(serve.port)"
        let sent = try Command.broadside(["send", "--template", mailing.template, "--list", "l", "--campaign", "t", "--smtp", mailing.smtp.url,
                                          "--db", mailing.db, "--track", "clicks,text", "--public-url", base], environment: ["BROADSIDE_SECRET": Mailing.secret])
        #expect(sent.status == 0, "\(sent.stderr)")
        let message = try #require(try mailing.smtp.received().first)
        let text = try #require(try PythonEmail.parse(Array(message.data.utf8)).text)
        #expect(text.contains("Your order is at \(base)/c/"), "\(text)")
        #expect(text.contains("."), "the full stop after the address stays")
        #expect(!text.contains("127.0.0.1:\(landing.port)") && text.contains("write to help@example.com"), "\(text)")
        var first = String(try #require(text.components(separatedBy: "\(base)").dropFirst().first?.prefix { !$0.isWhitespace }))
        if first.hasSuffix(".") { first.removeLast() }   // the sentence's full stop
        _ = try sqlite(mailing.db, "UPDATE events SET at = at - 3600")
        let answer = try serve.get(first, ["-A", Self.chromeAgent])
        #expect(answer.status == 302 && answer.headers.lowercased().contains("location: http://127.0.0.1:\(landing.port)/order?id=7"), "\(answer.headers)")
        let refused = try Command.broadside(["send", "--template", mailing.template, "--list", "l", "--campaign", "u", "--smtp", mailing.smtp.url,
                                             "--db", mailing.db, "--track", "text", "--public-url", base], environment: ["BROADSIDE_SECRET": Mailing.secret])
        #expect(refused.status == 2 && refused.stderr.contains("--track clicks,text"), "\(refused.stderr)")
    }
}
