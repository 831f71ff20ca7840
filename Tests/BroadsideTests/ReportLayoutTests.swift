import Foundation
import Testing
import TestSupport

/// The HTML report read on a phone (390 px) and a desktop (1280 px), in English and in
/// Chinese, measured by headless Chromium: nothing wider than the screen, no table column
/// cut, chart labels large enough to read.
@Suite("Report layout")
struct ReportLayoutTests {
    /// What the page measures in the browser (the report itself runs no script).
    static let measure = """
        JSON.stringify({page: document.documentElement.scrollWidth, width: window.innerWidth,
          tables: [...document.querySelectorAll('table')].map(t => [t.scrollWidth, t.parentElement.clientWidth]),
          smallestLabel: Math.min(...[...document.querySelectorAll('svg text')].map(t => t.getBoundingClientRect().height).filter(h => h > 0)),
          lang: document.documentElement.lang})
        """

    struct Measured: Decodable {
        var page: Int
        var width: Int
        var tables: [[Int]]
        var smallestLabel: Double
        var lang: String
    }

    /// The page in a viewport `width` px wide, measured by headless Chromium (DevTools emulation), and its screenshot.
    static func measured(_ file: String, width: Int, screenshot: String) throws -> Measured {
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), [
            Repository.root.appendingPathComponent("scripts/browser.py").path, "measure", "file://\(file)", "\(width)", Self.measure, screenshot,
        ])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
              let json = try JSONSerialization.jsonObject(with: Data(line.utf8), options: .fragmentsAllowed) as? String else {
            throw TestSupportError("nothing measured: \(result.stdout.prefix(300)) \(result.stderr.suffix(300))")
        }
        return try JSONDecoder().decode(Measured.self, from: Data(json.utf8))
    }

    @Test func theReportFitsAPhoneAndADesktopInBothLanguages() throws {
        let campaign = try ReportTests.Campaign()
        // Opens and clicks, so that the engagement section and its link table are drawn too.
        let ids = try sqlite(campaign.db, "SELECT id FROM messages WHERE state = 'accepted' LIMIT 6")
        for (index, id) in ids.enumerated() {
            _ = try sqlite(campaign.db, """
                INSERT INTO tracking_events (campaign_id, message_id, kind, link, at, machine, agent)
                VALUES (1, \(id), 'click', \(index % 2), 1790000000, \(index == 5 ? 1 : 0), '\(index == 5 ? "HEAD request" : "Chrome")')
                """)
        }
        _ = try sqlite(campaign.db, "UPDATE campaigns SET settings = json_set(settings, '$.track', json('[\"clicks\"]'))")
        for lang in ["en", "zh"] {
            let file = campaign.dir.path("report-\(lang).html")
            let made = try Command.broadside(["report", "autumn", "--format", "html", "--lang", lang, "--out", file, "--db", campaign.db])
            #expect(made.status == 0, "\(made.stderr)")
            let html = try String(contentsOfFile: file, encoding: .utf8)
            #expect(html.contains("<html lang=\"\(lang)\">"))
            if lang == "zh" {
                #expect(html.contains("各状态邮件数") && html.contains("地址不存在") && html.contains("年"), "labels, reasons and dates in Chinese")
                #expect(!html.contains("Messages by state"))
            } else {
                #expect(html.contains("Messages by state") && html.contains("address does not exist"))
            }
            for width in [390, 1280] {
                let png = campaign.dir.path("report-\(lang)-\(width).png")
                let m = try Self.measured(file, width: width, screenshot: png)
                #expect(m.width == width, "the viewport is \(m.width) px")
                #expect(m.lang == lang)
                #expect(m.page <= m.width, "\(lang) at \(width) px: the page is \(m.page) px wide")
                for table in m.tables {
                    #expect(table[0] <= table[1], "\(lang) at \(width) px: a table \(table[0]) px wide in \(table[1]) px: columns cut")
                }
                #expect(m.smallestLabel >= 9, "\(lang) at \(width) px: chart labels \(m.smallestLabel) px high")
                #expect(((try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0) > 20_000, "a screenshot with content")
                if ProcessInfo.processInfo.environment["KEEP_SHOTS"] != nil { try? FileManager.default.copyItem(atPath: png, toPath: "/tmp/\(lang)-\(width).png") }
            }
        }
    }

    @Test func aCampaignWrittenInChineseGetsItsReportInChinese() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        try Command.broadsideSucceeding(["import", try dir.write("l.csv", "email,name\nli@example.com,李雷\n"), "--list", "l", "--db", db])
        let template = try dir.write("t.txt", "From: 新闻 <news@example.com>\nSubject: 您好 {{ name }}\n\n亲爱的{{ name }}，感谢您一直以来对我们的支持与信任，祝您生活愉快。\n")
        try Command.broadsideSucceeding(["send", "--template", template, "--list", "l", "--campaign", "十一月", "--dry-run", "--outbox", dir.path("o"), "--db", db])
        let html = try Command.broadside(["report", "十一月", "--format", "html", "--db", db])
        #expect(html.stdout.contains("<html lang=\"zh\">"), "\(html.stdout.prefix(200))")
        // The terminal table too; --lang says otherwise.
        let table = try Command.broadside(["report", "十一月", "--db", db])
        #expect(table.stdout.contains("合计") && table.stdout.contains("已接收") && table.stdout.contains("送达 100.00%"), "\(table.stdout)")
        #expect(try Command.broadside(["report", "十一月", "--lang", "en", "--db", db]).stdout.contains("Delivered 100.00%"))
    }
}
