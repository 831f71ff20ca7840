import Engagement
import Testing

@Suite("Tracked links")
struct TrackedLinksTests {
    static let html = """
        <p>Hi <A class="x" HREF="https://shop.example/a?id=7&amp;ref=mail">your order</a>,
        <a href='mailto:help@example.com'>write</a>, <a href=http://bare.example/x>bare</a>
        <a data-notrack href="https://private.example/">kept</a> <abbr title="a">A</abbr>
        <a title="say > this" href="https://after-quote.example/">q</a>
        <a href="https://news.example/u/1.2.abc">unsubscribe</a></p>
        """

    @Test func linksAreFoundInOrderWithTheirEntitiesDecoded() {
        let links = TrackedLinks.links(in: Self.html)
        #expect(links.map(\.url) == ["https://shop.example/a?id=7&ref=mail", "http://bare.example/x", "https://private.example/",
                                     "https://after-quote.example/", "https://news.example/u/1.2.abc"])
        #expect(links.map(\.optedOut) == [false, false, true, false, false])
    }

    @Test func onlyAcceptedLinksAreRewrittenAndNumbersStayThoseOfAllLinks() {
        let rewritten = TrackedLinks.rewrite(Self.html, track: { !$0.optedOut && !$0.url.contains("/u/") }) { "https://t.example/c/\($0)" }
        #expect(rewritten.contains("HREF=\"https://t.example/c/0\""))
        #expect(rewritten.contains("href=https://t.example/c/1>"))
        #expect(rewritten.contains("href=\"https://private.example/\""), "opted out")
        #expect(rewritten.contains("href=\"https://t.example/c/3\""), "numbered among all links, the opted-out one too")
        #expect(rewritten.contains("https://news.example/u/1.2.abc"), "the unsubscribe link stays")
        #expect(rewritten.contains("mailto:help@example.com"))
        // The page renders the same links again, in the same order: numbers find them back.
        #expect(TrackedLinks.links(in: Self.html)[3].url == "https://after-quote.example/")
    }

    @Test func theOpenImageGoesBeforeTheEndOfTheBody() {
        #expect(TrackedLinks.withOpenImage("<html><body><p>x</p></body></html>", address: "https://t/o/1.gif")
                    .hasSuffix("<img src=\"https://t/o/1.gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\"></body></html>"))
        #expect(TrackedLinks.withOpenImage("<p>x</p>", address: "u").hasPrefix("<p>x</p><img src=\"u\""))
    }
}

@Suite("Machines are not people")
struct VisitorTests {
    /// Requests as each kind of fetcher makes them (user agents as recorded in the wild).
    @Test(arguments: [
        (Visit(kind: .open, method: "GET", userAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"), "Google image proxy"),
        (Visit(kind: .open, method: "GET", userAgent: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"), "Yahoo image proxy"),
        (Visit(kind: .open, method: "GET", userAgent: "Mozilla/5.0"), "Apple Mail Privacy Protection"),
        (Visit(kind: .click, method: "HEAD", userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"), "HEAD request"),
        (Visit(kind: .click, method: "GET", userAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"), "link preview or crawler"),
        (Visit(kind: .click, method: "GET", userAgent: "Mozilla/5.0 Barracuda Sentinel"), "security scanner"),
        (Visit(kind: .click, method: "GET", userAgent: "python-requests/2.31.0"), "program, not a browser"),
        (Visit(kind: .click, method: "GET", userAgent: ""), "program, not a browser"),
        (Visit(kind: .click, method: "GET", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36", sinceAccepted: 3),
         "clicked within seconds of delivery"),
        (Visit(kind: .click, method: "GET", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36", sinceAccepted: 600, sinceOtherLink: 0.4),
         "every link at once"),
    ])
    func machinesAreNamedByTheirRule(visit: Visit, rule: String) {
        #expect(VisitorRule.classify(visit) == .machine(rule: rule))
    }

    @Test func peopleAreKeptByTheirProgramsFamilyOnly() {
        let chrome = Visit(kind: .click, method: "GET", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                           sinceAccepted: 3600, sinceOtherLink: 120)
        #expect(VisitorRule.classify(chrome) == .person(agent: "Chrome"))
        let outlook = Visit(kind: .open, method: "GET", userAgent: "Mozilla/4.0 (compatible; ms-office; MSOffice 16) Microsoft Outlook 16.0")
        #expect(VisitorRule.classify(outlook) == .person(agent: "Outlook"))
        #expect(VisitorRule.all.allSatisfy { !$0.source.isEmpty }, "every rule says where it comes from")
    }
}

@Suite("Links in a text part")
struct TextLinksTests {
    @Test func addressesWrittenOutAreFoundWithoutTheSentenceAroundThem() {
        let text = "See https://a.example/x?y=1. Or (http://b.example/path), <https://c.example/>, mail me@x.example, http://, HTTPS://D.example!"
        #expect(TextLinks.links(in: text).map(\.url) == ["https://a.example/x?y=1", "http://b.example/path", "https://c.example/", "HTTPS://D.example"])
        let rewritten = TextLinks.rewrite(text, track: { !$0.contains("c.example") }) { "T\($0)" }
        #expect(rewritten == "See T100000. Or (T100001), <https://c.example/>, mail me@x.example, http://, T100003!")
    }
}
