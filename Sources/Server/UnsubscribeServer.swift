import Addresses
import Broadside
import Delivery
import Foundation
import Hummingbird
import Logging
import Signing
import Store
import Templates

/// `broadside serve`: one-click unsubscribe (RFC 8058) for the links in sent messages,
/// and a read-only dashboard of the campaigns.
public struct UnsubscribeServer: Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// The token the dashboard asks for.
        public var accessToken: String?
        /// The operator says nothing stands between this listener and its users (no proxy):
        /// then, on loopback, the dashboard answers requests without a token.
        public var trustLoopback: Bool
        /// Seconds a connection may stay silent, mid-request or between requests, before it is closed.
        public var idleTimeout = 10

        public init(host: String, port: Int, accessToken: String?, trustLoopback: Bool = false) {
            self.host = host
            self.port = port
            self.accessToken = accessToken
            self.trustLoopback = trustLoopback
        }

        public var isLoopback: Bool { LoopbackHost.isLoopback(host) }
    }

    let store: Store
    let writer: UnsubscribeWriter
    let languages: LanguageCache
    let tokens: UnsubscribeToken
    let tracking: TrackingToken
    let links: LinkBook
    let visits: VisitWriter
    let options: Options
    let logger: Logger

    public init(store: Store, secret: String, options: Options, logger: Logger) {
        self.store = store
        // Unsubscribes wait for the database two seconds at most, then go to the journal beside it.
        let brief = (try? Store(path: store.path, busyTimeout: 2)) ?? store
        self.writer = UnsubscribeWriter(store: brief, journal: UnsubscribeJournal(database: store.path))
        self.languages = LanguageCache()
        self.tokens = UnsubscribeToken(secret: secret, database: store.identity)
        self.tracking = TrackingToken(secret: secret, database: store.identity)
        self.links = LinkBook(store: store, secret: secret)
        self.visits = VisitWriter(store: store) { [logger] in logger.error("\($0)") }
        self.options = options
        self.logger = logger
    }

    /// Serves until SIGINT or SIGTERM; `onRunning` is called once the port is bound.
    public func run(onRunning: @escaping @Sendable () -> Void = {}) async throws {
        let router = Router()
        let server = self
        router.add(middleware: RequestLog(logger: logger))
        router.post("u/:token") { request, context -> Response in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 16_384))
            return await server.unsubscribe(token: context.parameters.get("token") ?? "", body: body)
        }
        router.get("u/:token") { _, context -> Response in
            server.confirmationPage(token: context.parameters.get("token") ?? "")
        }
        for method in [HTTPRequest.Method.get, .head] {
            router.on("c/:token", method: method) { request, context -> Response in
                await server.click(token: context.parameters.get("token") ?? "", request: request)
            }
            router.on("o/:image", method: method) { request, context -> Response in
                await server.open(image: context.parameters.get("image") ?? "", request: request)
            }
        }
        let dashboard = router.group().add(middleware: DashboardAccess(server: server))
        dashboard.get("/") { request, _ -> Response in
            let words = DashboardWords.of(query: request.uri.queryParameters.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
            return await ReportQueue.run { server.dashboard(words) }
        }
        dashboard.get("campaigns/:name") { _, context -> Response in
            let name = context.parameters.get("name").map { $0.removingPercentEncoding ?? $0 } ?? ""
            return await ReportQueue.run { server.report(name) }
        }
        // A connection that sends nothing for this long (half a request line, say) is closed:
        // slow clients must not hold the connections that unsubscribes need.
        let app = Application(router: router, server: .http1(configuration: .init(idleTimeout: .seconds(Int64(options.idleTimeout)))),
                              configuration: .init(address: .hostname(options.host, port: options.port), serverName: "broadside"),
                              onServerRunning: { _ in onRunning() })
        try await app.runService()
        // What was clicked and opened until the end is written before `serve` exits.
        visits.close()
    }

    // MARK: unsubscribe

    /// RFC 8058: a POST with `List-Unsubscribe=One-Click` suppresses at once; 200, no redirect,
    /// no cookie, no sign-in. A token that does not verify is a 404 and changes nothing.
    func unsubscribe(token: String, body: String) async -> Response {
        guard let (campaign, message) = tokens.decode(token) else { return Self.page(status: .notFound, title: "Not found", body: "") }
        guard Self.asksForOneClick(body) else {
            return Self.page(status: .badRequest, title: "Bad request", body: "<p>Expected List-Unsubscribe=One-Click.</p>")
        }
        do {
            guard try await writer.unsubscribe(campaign: campaign, message: message) else {
                return Self.page(status: .notFound, title: "Not found", body: "")
            }
        } catch {
            logger.error("unsubscribe failed: \(error)")
            return Self.page(status: .internalServerError, title: "Try again", body: "<p>Please try again in a moment.</p>")
        }
        let language = language(campaign)
        return Self.page(status: .ok, title: language.words.doneTitle, body: "<p>\(language.words.done)</p>", language: language)
    }

    /// The body RFC 8058 asks for, form-urlencoded (`List-Unsubscribe=One-Click`) or multipart
    /// (a part named `List-Unsubscribe` holding `One-Click`).
    static func asksForOneClick(_ body: String) -> Bool {
        if body.contains("List-Unsubscribe=One-Click") { return true }
        guard let name = body.range(of: "name=\"List-Unsubscribe\""),
              let blank = body.range(of: "\r\n\r\n", range: name.upperBound..<body.endIndex) else { return false }
        return body[blank.upperBound...].hasPrefix("One-Click")
    }

    /// A GET never unsubscribes (link scanners fetch links): it shows a button that POSTs.
    func confirmationPage(token: String) -> Response {
        guard let (campaign, _) = tokens.decode(token) else { return Self.page(status: .notFound, title: "Not found", body: "") }
        let language = language(campaign)
        let words = language.words
        let form = """
            <p>\(words.question)</p>
            <form method="post" action="/u/\(HTML.escape(token))">
            <input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit" id="unsubscribe">\(words.button)</button>
            </form>
            """
        return Self.page(status: .ok, title: words.title, body: form, language: language)
    }

    enum Language: String {
        case english = "en", chinese = "zh"

        var words: (title: String, question: String, button: String, doneTitle: String, done: String) {
            switch self {
            case .english:
                return ("Unsubscribe", "Stop receiving these messages?", "Unsubscribe", "Unsubscribed",
                        "You are unsubscribed and will receive no more of these messages.")
            case .chinese:
                return ("退订", "不再接收这些邮件？", "退订", "已退订", "您已退订，今后不会再收到这些邮件。")
            }
        }
    }

    /// The campaign's language: Chinese when its template is mostly written in Han characters.
    func language(_ campaign: Int64) -> Language {
        languages.language(of: campaign) { Self.language(ofTemplate: try? store.templateSource(ofCampaign: campaign)) }
    }

    static func language(ofTemplate source: String?) -> Language {
        ReportLanguage.of(template: source) == .chinese ? .chinese : .english
    }

    // MARK: dashboard

    /// The dashboard shows recipients' addresses: it asks for the access token, unless the
    /// operator said the loopback listener is private and the request did not come through
    /// a proxy (a reverse proxy on the same machine makes every request look local).
    func authorized(_ request: Request) -> Bool {
        guard let token = options.accessToken else {
            let proxied = request.headers.contains { ["forwarded", "x-forwarded-for", "x-real-ip"].contains($0.name.canonicalName) }
            return options.trustLoopback && options.isLoopback && !proxied
        }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let query = request.uri.queryParameters.get("token")
        return Self.same(bearer, token) || Self.same(query, token)
    }

    static let unauthorizedHelp = "<p>The dashboard asks for its access token (Authorization: Bearer, or ?token=): start serve with --access-token-env VAR, or with --trust-loopback when no proxy stands in front of it.</p>"

    /// Compared in constant time, so response times say nothing about the token.
    static func same(_ given: String?, _ token: String) -> Bool {
        guard let given else { return false }
        return ConstantTime.equal(given.utf8, token.utf8)
    }

    func dashboard(_ w: DashboardWords = .english) -> Response {
        do {
            var rows = ""
            let allCounts = try store.countsByCampaign()
            let figures = try store.dashboardFigures()
            let campaigns = try store.campaigns()
            for campaign in campaigns {
                let counts = allCounts[campaign.id] ?? [:]
                let total = counts.values.reduce(0, +)
                // In flight ("sending") has its column, so that the counts add up to the total.
                let sending = MessageState.beingSent.reduce(0) { $0 + (counts[$1] ?? 0) }
                let cells = DashboardWords.states.map {
                    "<td class=\"n\" data-state=\"\($0)\">\($0 == "sending" ? sending : counts[MessageStateName.named($0)] ?? 0)</td>"
                }.joined() + "<td class=\"n\">\(total)</td>"
                let people = [figures.opened[campaign.id], figures.clicked[campaign.id], figures.replied[campaign.id]]
                    .map { "<td class=\"n\">\($0 ?? 0)</td>" }.joined()
                rows += "<tr><td><a href=\"/campaigns/\(HTML.escape(campaign.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))\">\(HTML.escape(campaign.name))</a><br>\(Self.stateBar(counts, total: total))</td><td>\(HTML.escape(w.status(campaign.status.rawValue)))</td>\(cells)\(people)</tr>\n"
            }
            let sendingNow = campaigns.filter { $0.status == .active }.count
            let messages = allCounts.values.reduce(0) { $0 + $1.values.reduce(0, +) }
            var recent = ""
            for entry in figures.recentUnsubscribes {
                recent += "<tr><td>\(HTML.escape(entry.address))</td><td>\(HTML.escape(entry.source))</td><td>\(HTML.escape(entry.campaign ?? "-"))</td><td>\(HTML.escape(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: entry.at))))</td></tr>\n"
            }
            // Relays out of rotation now, in campaigns being sent: which, since when, why.
            var relaysOut = ""
            for out in try store.relaysOutNow() {
                relaysOut += "<tr><td>\(HTML.escape(out.campaign))</td><td>\(HTML.escape(out.relay))</td><td>\(HTML.escape(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: out.since))))</td><td>\(HTML.escape(out.reason))</td></tr>\n"
            }
            let relaysPanel = relaysOut.isEmpty ? "" : "<h2>\(w.relaysOut)</h2>\n<div class=\"scroll\"><table id=\"relays-out\"><tr>\(w.relayColumns.map { "<th>\($0)</th>" }.joined())</tr>\n\(relaysOut)</table></div>"
            let body = """
                <div class="cards"><div class="card">\(w.campaigns)<b>\(campaigns.count)</b>\(sendingNow) \(w.sending)</div>
                <div class="card">\(w.messages)<b>\(messages)</b></div><div class="card">\(w.suppressionList)<b>\(figures.suppressed)</b>\(w.addresses)</div></div>
                <div class="scroll"><table><tr>\(w.columns.map { "<th>\($0)</th>" }.joined())</tr>
                \(rows)</table></div>
                \(relaysPanel)
                <h2>\(w.recentUnsubscribes)</h2>
                \(recent.isEmpty ? "<p>\(w.noneYet)</p>" : "<div class=\"scroll\"><table id=\"unsubscribes\"><tr>\(w.unsubscribeColumns.map { "<th>\($0)</th>" }.joined())</tr>\n\(recent)</table></div>")
                <p class="meta">\(w.meta)</p>
                """
            return Self.page(status: .ok, title: w.title, body: body, language: w.language == .chinese ? .chinese : .english, refresh: 2)
        } catch {
            return Self.page(status: .internalServerError, title: "Error", body: "<p>\(HTML.escape("\(error)"))</p>")
        }
    }

    /// A campaign's states as one thin bar.
    static func stateBar(_ counts: [MessageState: Int], total: Int) -> String {
        guard total > 0 else { return "" }
        var x = 0.0
        var bar = "<svg class=\"bar\" viewBox=\"0 0 200 6\" width=\"200\" height=\"6\" role=\"img\" aria-label=\"states\">"
        for state in CampaignReport.stateOrder {
            let count = counts[state] ?? 0
            guard count > 0 else { continue }
            let width = 200 * Double(count) / Double(total)
            bar += "<rect x=\"\(String(format: "%.1f", x))\" width=\"\(String(format: "%.1f", width))\" height=\"6\" fill=\"\(CampaignReport.colours[state.rawValue] ?? "#999")\"/>"
            x += width
        }
        return bar + "</svg>"
    }

    func report(_ name: String) -> Response {
        do {
            guard let campaign = try store.campaign(named: name) else { return Self.page(status: .notFound, title: "Not found", body: "") }
            var html = try CampaignReport(campaign: campaign, store: store).html(language: ReportLanguage.of(template: campaign.templateSource))
            // Refreshed while the campaign runs.
            if campaign.status == .active { html = html.replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">") }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        } catch {
            return Self.page(status: .internalServerError, title: "Error", body: "<p>\(HTML.escape("\(error)"))</p>")
        }
    }

    static func page(status: HTTPResponse.Status, title: String, body: String, language: Language = .english, refresh: Int? = nil) -> Response {
        let html = """
            <!doctype html><html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">\(refresh.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? "")
            <title>\(HTML.escape(title))</title>
            <style>body{font-family:Helvetica,Arial,"Noto Sans CJK SC",sans-serif;max-width:1100px;margin:40px auto;padding:0 16px}button{font-size:1.1em;padding:8px 16px}
            table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right}
            .scroll{overflow-x:auto}.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:110px}
            .card b{display:block;font-size:1.3em}.meta{color:#555;font-size:.9em}svg.bar{display:block;margin-top:3px;max-width:100%}</style>
            </head><body><h1>\(HTML.escape(title))</h1>\(body)</body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// State names as the dashboard's columns name them.
enum MessageStateName {
    static func named(_ name: String) -> Delivery.MessageState {
        Delivery.MessageState(rawValue: name) ?? .queued
    }
}
