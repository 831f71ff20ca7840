import Foundation
import Testing
import TestSupport

/// The report against the database it comes from, and in a real browser.
@Suite("Reports")
struct ReportTests {
    /// A campaign through the scripted SMTP server, with failures, deferrals and a bounce
    /// whose diagnostic carries script.
    struct Campaign {
        let dir: TemporaryDirectory
        let db: String

        init() throws {
            dir = try TemporaryDirectory()
            db = dir.path("b.sqlite")
            let server = try SMTPTestServer()
            var csv = "email,name\n"
            for n in 1...12 { csv += "ok\(n)@example.com,N\(n)\n" }
            for n in 1...4 { csv += "ok\(n)@gmail.com,G\(n)\n" }
            csv += "reject-1@example.net,R\nreject-2@example.net,R\ndefer-1@example.org,D\nfull-1@gmail.com,F\n"
            let list = try dir.write("l.csv", csv)
            let template = try dir.write("t.txt", "From: News <news@example.com>\nSubject: Hi {{ name }}\n\nHello.\n")
            try Command.broadsideSucceeding(["import", list, "--list", "l", "--db", db])
            _ = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "autumn", "--smtp", server.url, "--db", db])
            let messageID = try sqlite(db, "SELECT message_id FROM messages WHERE recipient = 'ok1@example.com'").first ?? ""
            let bounce = BounceTests.dsn(to: "ok1@example.com", status: "5.1.1",
                                         diagnostic: "550 5.1.1 <script>document.title='pwned'</script> user unknown", messageID: messageID)
            try dir.write("bounce.eml", bounce)
            _ = try Command.broadside(["bounces", "import", dir.path("bounce.eml"), "--db", db])
        }
    }

    @Test func everyFigureOfTheJSONReportEqualsACountFromTheDatabase() throws {
        let campaign = try Campaign()
        let db = campaign.db
        let result = try Command.broadside(["report", "autumn", "--json", "--db", db])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        func count(_ query: String) throws -> Int { Int(try sqlite(db, query).first ?? "") ?? -1 }
        #expect(report["total"] as? Int == (try count("SELECT count(*) FROM messages")))
        let totals = try #require(report["totals"] as? [String: Int])
        for state in ["accepted", "bounced", "failed", "deferred", "unknown", "skipped", "queued", "complained"] {
            #expect(totals[state] == (try count("SELECT count(*) FROM messages WHERE state = '\(state)'")), "\(state)")
        }
        #expect(totals["bounced"] == 1 && totals["failed"] == 2 && totals["deferred"] == 2)
        let domains = try #require(report["domains"] as? [[String: Any]])
        for domain in domains {
            let name = try #require(domain["domain"] as? String)
            #expect(domain["messages"] as? Int == (try count("SELECT count(*) FROM messages WHERE recipient LIKE '%@\(name)'")), "\(name)")
            #expect(domain["accepted"] as? Int == (try count("SELECT count(*) FROM messages WHERE state = 'accepted' AND recipient LIKE '%@\(name)'")))
        }
        let reasons = try #require(report["reasons"] as? [[String: Any]])
        for reason in reasons {
            let name = try #require(reason["reason"] as? String), state = try #require(reason["state"] as? String)
            #expect(reason["count"] as? Int == (try count("SELECT count(*) FROM messages WHERE reason = '\(name)' AND state = '\(state)'")))
        }
        let throughput = try #require(report["throughput"] as? [[String: Any]])
        #expect(throughput.reduce(0) { $0 + ($1["accepted"] as? Int ?? 0) } == (try count("SELECT count(*) FROM events WHERE state = 'accepted'")))
        let retries = try #require(report["retries"] as? [String: Int])
        #expect(retries["1"] == (try count("SELECT count(*) FROM messages WHERE attempts = 1")))
        #expect((report["hard_bounce_rate"] as? Double ?? 0) > 0)
    }

    /// The timeline and the accepted-per-minute figures are summed in one pass over the
    /// messages; they must be what SQL counts for the bin width the span chose, whether the
    /// bins are shorter than a minute (drawn from seconds) or longer (drawn from minutes).
    @Test(arguments: [(span: 40.0, bin: 1), (span: 500.0, bin: 5), (span: 3000.0, bin: 30), (span: 7000.0, bin: 60), (span: 30000.0, bin: 300)])
    func theTimelineIsWhatSQLCountsForEveryBinWidth(span: Double, bin: Int) throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        try Command.broadsideSucceeding(["suppress", "remove", "nobody@example.invalid", "--db", db])  // makes the schema
        // 3,000 messages over the span, unevenly (clusters, fractions of seconds), in every state.
        for statement in [
            "INSERT INTO lists (id, name, created_at, updated_at) VALUES (1, 'l', 0, 0)",
            """
            INSERT INTO campaigns (id, name, list_id, template_path, template_source, template_hash, created_at, started_at)
            VALUES (1, 'c', 1, 't.txt', 'From: a@example.com', '0', 1790000000, 1790000000)
            """,
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO contacts (id, address, created_at, updated_at) SELECT i, 'u' || i || '@example.com', 0, 0 FROM n
            """,
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO messages (id, campaign_id, contact_id, recipient, message_id, return_path, state, attempts, first_attempt_at, last_attempt_at, updated_at)
            SELECT i, 1, i, 'u' || i || '@example.com', 'm' || i, 'a@example.com',
                   CASE i % 6 WHEN 0 THEN 'failed' WHEN 1 THEN 'bounced' WHEN 2 THEN 'complained' WHEN 3 THEN 'deferred' ELSE 'accepted' END, 1,
                   1790000000.25, 1790000000.25 + \(span) * ((i * i) % 3001) / 3000.0, 0 FROM n
            """,
        ] { _ = try sqlite(db, statement) }
        let result = try Command.broadside(["report", "c", "--json", "--db", db])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let timeline = try #require(report["timeline"] as? [String: Any])
        #expect(timeline["bin_s"] as? Int == bin)
        func counted(_ width: Int) throws -> [String] {
            try sqlite(db, """
                SELECT strftime('%Y-%m-%dT%H:%M:%SZ', CAST(last_attempt_at / \(width) AS INTEGER) * \(width), 'unixepoch') || ' ' || count(*)
                FROM messages WHERE state IN ('accepted', 'bounced', 'complained') GROUP BY CAST(last_attempt_at / \(width) AS INTEGER) ORDER BY 1
                """)
        }
        let bins = try #require(timeline["bins"] as? [[String: Any]]).map { "\($0["start"] ?? "") \($0["accepted"] ?? "")" }
        #expect(bins == (try counted(bin)))
        let minutes = try #require(report["throughput"] as? [[String: Any]]).map { "\($0["minute"] ?? "") \($0["accepted"] ?? "")" }
        #expect(minutes == (try counted(60)))
        #expect(bins.count > 20, "the span is drawn in many bins")
    }

    @Test func theHTMLReportRendersInChromiumWithItsChartsAndRunsNoScriptFromAReply() throws {
        let campaign = try Campaign()
        let html = campaign.dir.path("report.html")
        #expect(try Command.broadside(["report", "autumn", "--format", "html", "--out", html, "--db", campaign.db]).status == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!page.contains("<script"), "no script of its own, and none from a reply")
        #expect(page.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"))
        #expect(!page.contains("http://") && !page.contains("https://"), "no external request")

        let chromium = URL(fileURLWithPath: "/usr/bin/chromium")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
        let png = campaign.dir.path("report.png")
        let shot = try Command.run(chromium, common + ["--screenshot=\(png)", "--window-size=1000,1400", "file://\(html)"])
        #expect(FileManager.default.fileExists(atPath: png), "\(shot.stderr)")
        #expect(!shot.stderr.contains("CONSOLE"), "no console messages: \(shot.stderr)")
        // A blank 1000x1400 page compresses to a few kilobytes; this one has charts and tables.
        let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 30_000)

        let dom = try Command.run(chromium, common + ["--dump-dom", "file://\(html)"])
        #expect(dom.stdout.contains("id=\"states\"") && dom.stdout.contains("id=\"throughput\"") && dom.stdout.contains("id=\"domains\""))
        #expect(dom.stdout.contains("<title>Campaign autumn"), "the script from the reply did not run")
        #expect(!dom.stdout.contains("<title>pwned"))
    }

    @Test func theCSVReportHasOneRowPerMessageAndOpensInExcel() throws {
        let campaign = try Campaign()
        let result = try Command.broadside(["report", "autumn", "--format", "csv", "--db", campaign.db])
        let bytes = Array(result.stdout.utf8)
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]), "a BOM, so that Excel reads UTF-8")
        let lines = result.stdout.split(separator: "\r\n")
        #expect(lines.count == 1 + 20)
        #expect(lines[0].hasSuffix("recipient,name,state,reason_in_words,opened,clicked,replied,attempts,smtp_code,enhanced_status,reply,reason,first_attempt_at,last_attempt_at,updated_at"),
                "the list's name columns beside the address, and what the recipient did")
        #expect(lines.contains { $0.hasPrefix("reject-1@example.net,R,failed,address does not exist,,,,1,550,5.1.1,") }, "\(lines)")
    }

    @Test func twoCampaignsSideBySide() throws {
        let campaign = try Campaign()
        let template = try campaign.dir.write("t2.txt", "From: News <news@example.com>\nSubject: Again\n\nHello.\n")
        _ = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "winter", "--dry-run",
                                   "--outbox", campaign.dir.path("o"), "--db", campaign.db])
        let result = try Command.broadside(["report", "autumn", "winter", "--db", campaign.db])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("autumn") && result.stdout.contains("winter"))
        #expect(result.stdout.contains("delivery rate"))
        #expect(result.stdout.contains("difference"), "\(result.stdout)")

        // As CSV and HTML too, with B's difference from A taken from the two campaigns' own figures.
        let a = try sqlite(campaign.db, "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'autumn'").first ?? ""
        let b = try sqlite(campaign.db, "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'winter'").first ?? ""
        let csv = try Command.broadside(["report", "autumn", "winter", "--format", "csv", "--db", campaign.db])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.contains("figure,autumn,winter,difference,unit\r\n"))
        #expect(csv.stdout.contains("messages,\(a).0,\(b).0,\(Double(Int(b)! - Int(a)!)),count\r\n"), "\(csv.stdout)")
        let accepted = try sqlite(campaign.db, "SELECT c.name, sum(m.state = 'accepted') FROM messages m JOIN campaigns c ON c.id = m.campaign_id GROUP BY c.name ORDER BY c.name")
        #expect(accepted.count == 2)
        let html = try Command.broadside(["report", "autumn", "winter", "--format", "html", "--db", campaign.db])
        #expect(html.stdout.contains("<table id=\"comparison\">") && html.stdout.contains("±"), "\(html.stdout.prefix(300))")
        #expect(html.stdout.contains("<td>accepted</td>"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try Command.broadside(["report", "autumn", "winter", "--json", "--db", campaign.db]).stdout.utf8)) as? [String: Any])
        let compared = try #require(json["compared"] as? [[String: Any]])
        #expect(compared.first { $0["figure"] as? String == "messages" }?["difference"] as? Double == Double(Int(b)! - Int(a)!))
        let acceptedA = Int(accepted[0].split(separator: "|")[1])!, acceptedB = Int(accepted[1].split(separator: "|")[1])!
        #expect(acceptedA != acceptedB, "the two differ, so the difference shows")
        #expect(compared.first { $0["figure"] as? String == "accepted" }?["difference"] as? Double == Double(acceptedB - acceptedA))
    }
}

/// What a manager reads: reasons in words (the taxonomy id kept in JSON), each domain's most
/// common problem with how many had it, the recipients not reached, and attempts in words.
@Suite("Report in words")
struct ReportWordsTests {
    @Test func reasonsProblemsAndAttemptsAreSaidInWords() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["reject-gone", "alive", "also-alive", "third"])
        _ = try fixture.send(["--smtp", server.url, "--connections", "1"])
        let report = try Command.broadside(["report", "c", "--db", fixture.db])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("most common problem"), "\(report.stdout)")
        #expect(report.stdout.contains("address does not exist (1)"), "the domain's problem in words, with its count: \(report.stdout)")
        #expect(report.stdout.contains("Recipients not reached (1):") && report.stdout.contains("reject-gone@example.com"), "\(report.stdout)")
        #expect(report.stdout.contains("Messages by attempts: 4 took one, 0 took two, 0 took three or more"), "\(report.stdout)")
        #expect(!report.stdout.contains(" once,"), "\(report.stdout)")

        let json = try Command.broadside(["report", "c", "--json", "--db", fixture.db])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let problems = try #require(object["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems.first?["reason"] as? String == "userunknown" && problems.first?["words"] as? String == "address does not exist", "\(problems)")
        let domains = try #require(object["domains"] as? [[String: Any]])
        let problem = try #require(domains.first?["common_problem"] as? [String: Any])
        #expect(problem["reason"] as? String == "userunknown" && problem["count"] as? Int == 1, "\(problem)")

        let html = try Command.broadside(["report", "c", "--format", "html", "--out", fixture.dir.path("r.html"), "--db", fixture.db])
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOfFile: fixture.dir.path("r.html"), encoding: .utf8)
        #expect(page.contains("Recipients not reached (1)") && page.contains("address does not exist"), "\(page.prefix(300))")
    }
}

/// One definition per figure: a campaign sent in one run has the same rate in `send` and
/// in `report` (accepted per second from the first attempt to the last).
@Suite("One definition per figure")
struct FigureDefinitionTests {
    @Test func sendAndReportGiveTheSameRate() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(count: 300)
        let sent = try fixture.send(["--smtp", server.url, "--rate", "200/s"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let report = try Command.broadside(["report", "c", "--json", "--db", fixture.db])
        func number(_ key: String, in json: String) throws -> Double {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return try #require(object[key] as? Double ?? (object[key] as? Int).map(Double.init))
        }
        let sendRate = try number("rate_per_s", in: sent.stdout), reportRate = try number("rate_per_s", in: report.stdout)
        #expect(abs(sendRate - reportRate) <= 0.1, "send says \(sendRate)/s, report \(reportRate)/s")
        #expect(abs(try number("elapsed_s", in: sent.stdout) - (try number("elapsed_s", in: report.stdout))) <= 0.002)
    }
}

/// A percentage is written one way everywhere (two decimals): never 66.7 % in one place and
/// 66.67 % in another for the same figure.
@Suite("Percentages, one way")
struct PercentageTests {
    @Test func theSameFigureHasTheSameDigitsEverywhere() throws {
        let server = try SMTPTestServer()
        let fixture = try TestCampaign(["reject-gone", "alive", "also-alive"])
        _ = try fixture.send(["--smtp", server.url, "--connections", "1"])
        let table = try Command.broadside(["report", "c", "--db", fixture.db]).stdout
        #expect(table.contains("66.67%") && table.contains("Delivered 66.67%"), "\(table)")
        let json = try Command.broadside(["report", "c", "--json", "--db", fixture.db]).stdout
        #expect(json.contains("\"accepted\":66.67") && json.contains("\"delivery_rate\":0.6667"), "\(json.prefix(600))")
        try Command.broadsideSucceeding(["report", "c", "--format", "html", "--out", fixture.dir.path("r.html"), "--db", fixture.db])
        let page = try String(contentsOfFile: fixture.dir.path("r.html"), encoding: .utf8)
        #expect(page.contains("delivered<b>66.67%</b>"), "\(page.prefix(1200))")
    }
}

