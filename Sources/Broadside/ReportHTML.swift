import Delivery
import Foundation
import Templates

/// The report as one self-contained HTML page: inline CSS, SVG charts, no script and no
/// external request. Every value that came from a list or a server is escaped. Written in
/// English or Chinese (labels, states, reasons, dates), readable on a 390 px phone: wide
/// tables scroll inside their box, charts scale to the screen.
extension CampaignReport {
    public static let colours: [String: String] = ["accepted": "#2e7d32", "bounced": "#c62828", "complained": "#ad1457", "failed": "#e53935",
                                            "deferred": "#f9a825", "unknown": "#6a1b9a", "skipped": "#9e9e9e", "queued": "#90a4ae",
                                            "claimed": "#b0bec5", "awaiting_reply": "#b0bec5"]

    static func e(_ text: String?) -> String { HTML.escape(text ?? "") }
    static func percent(_ rate: Double) -> String { String(format: "%.2f%%", rate * 100) }

    public func html(language: ReportLanguage = .english) -> String {
        let w = language.words
        let e = Self.e
        var page = """
            <!doctype html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(w.campaign) \(e(campaign)) — \(w.report)</title>
            <style>
            body{font-family:-apple-system,Segoe UI,Helvetica,Arial,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#222;overflow-wrap:anywhere}
            h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
            .meta{color:#555;font-size:.9em}.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
            .card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:96px;flex:1 1 96px}.card b{display:block;font-size:1.3em}
            .scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;width:100%;font-size:.9em}
            th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}td.n{text-align:right}
            td.reply{font-family:monospace;font-size:.85em;word-break:break-word}svg{max-width:100%;height:auto}
            .legend span{display:inline-block;margin-right:10px;font-size:.85em}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
            @media (max-width:480px){body{padding:10px}table{font-size:.8em}th,td{padding:3px 4px}}
            @media print{body{max-width:none}.scroll{overflow:visible}}
            </style></head><body>
            <h1>\(w.campaign) \(e(campaign))</h1>
            <p class="meta">\(w.list) <b>\(e(list))</b> · \(w.template) \(e(template)) <code>#\(e(String(templateHash.prefix(12))))</code>\(profile.map { " · \(w.profile) \(e($0))" } ?? "")<br>
            \(w.status) <b>\(e(status))</b>\(statusReason.map { " — \(e($0))" } ?? "") · \(w.created) \(e(w.date(iso: createdAt))) · \(w.started) \(e(w.date(iso: startedAt))) · \(w.finished) \(e(w.date(iso: finishedAt)))</p>
            <div class="cards">
            <div class="card">\(w.messages)<b>\(total)</b></div>
            <div class="card">\(w.delivered)<b>\(Self.percent(deliveryRate))</b></div>
            <div class="card">\(w.hardBounces)<b>\(Self.percent(hardBounceRate))</b></div>
            <div class="card">\(w.complaints)<b>\(Self.percent(complaintRate))</b></div>
            <div class="card">\(w.rate)<b>\(String(format: "%.1f", ratePerSecond))</b>\(w.perSecond)</div>
            <div class="card">\(w.elapsed)<b>\(DurationText.describe(elapsedSeconds.rounded(), language: language))</b></div>
            </div>

            """
        page += statesHTML(w)
        page += engagementHTML(w)
        page += timelineHTML(w, language: language)
        page += domainsHTML(w)
        page += relaysHTML(w)

        page += "<h2>\(w.reasons)</h2>\n"
        if reasons.isEmpty {
            page += "<p>\(w.none)</p>\n"
        } else {
            page += "<div class=\"scroll\"><table><tr><th>\(w.reason)</th><th>\(w.state)</th><th>\(w.count)</th><th>\(w.exampleReply)</th></tr>\n"
            for reason in reasons {
                page += "<tr><td title=\"\(e(reason.reason))\">\(e(w.reason(reason.reason)))</td><td>\(e(w.state(reason.state)))</td><td class=\"n\">\(reason.count)</td><td class=\"reply\">\(e(reason.example))</td></tr>\n"
            }
            page += "</table></div>\n"
        }

        let notReached = problems.filter { $0.state != "unknown" }
        if !notReached.isEmpty {
            page += "<h2>\(w.notReached) (\(notReached.count))</h2>\n<div class=\"scroll\"><table><tr><th>\(w.recipient)</th><th>\(w.state)</th><th>\(w.reason)</th></tr>\n"
            for problem in notReached {
                page += "<tr><td>\(e(problem.recipient))</td><td>\(e(w.state(problem.state)))</td><td title=\"\(e(problem.reply))\">\(e(w.reason(problem.reason)))</td></tr>\n"
            }
            page += "</table></div>\n"
        }
        if !unknown.isEmpty {
            page += "<h2>\(w.unknownTitle) (\(unknown.count))</h2>\n<p>\(w.unknownText.replacingOccurrences(of: "CAMPAIGN", with: e(campaign)))</p>\n<ul>\n"
            for entry in unknown { page += "<li>\(e(entry.recipient))</li>\n" }
            page += "</ul>\n"
        }
        page += "<p class=\"meta\">\(w.madeBy)</p>\n</body></html>\n"
        return page
    }

    /// One stacked bar of the states and its legend.
    func statesHTML(_ w: ReportWords) -> String {
        var page = "<h2>\(w.byState)</h2>\n<svg id=\"states\" viewBox=\"0 0 600 40\" role=\"img\" aria-label=\"\(w.byState)\">\n"
        var x = 0.0
        for state in Self.stateOrder {
            let count = totals[state.rawValue] ?? 0
            guard count > 0, total > 0 else { continue }
            let width = 600 * Double(count) / Double(total)
            page += "<rect x=\"\(String(format: "%.2f", x))\" y=\"0\" width=\"\(String(format: "%.2f", width))\" height=\"40\" fill=\"\(Self.colours[state.rawValue] ?? "#999")\"><title>\(w.state(state.rawValue)): \(count)</title></rect>\n"
            x += width
        }
        page += "</svg>\n<p class=\"legend\">"
        for state in Self.stateOrder where (totals[state.rawValue] ?? 0) > 0 {
            page += "<span data-state=\"\(state.rawValue)\"><i style=\"background:\(Self.colours[state.rawValue] ?? "#999")\"></i>\(w.state(state.rawValue)) \(totals[state.rawValue] ?? 0) (\(String(format: "%.2f", percentages[state.rawValue] ?? 0))%)</span>"
        }
        return page + "</p>\n"
    }

    /// Accepted over time, in the bins the campaign's length calls for; labels big enough on a phone.
    func timelineHTML(_ w: ReportWords, language: ReportLanguage) -> String {
        let unit = DurationText.describe(timeline.binSeconds, language: language)
        var page = "<h2>\(w.acceptedOverTime) (\(unit))</h2>\n"
        guard !timeline.bins.isEmpty else { return page + "<p>\(w.nothingAccepted)</p>\n" }
        let peak = max(1, timeline.bins.map(\.accepted).max() ?? 1)
        let barWidth = min(40.0, max(2.0, 560.0 / Double(timeline.bins.count)))
        page += "<svg id=\"throughput\" viewBox=\"0 0 600 190\" role=\"img\" aria-label=\"\(w.acceptedOverTime)\">\n"
        page += "<line x1=\"30\" y1=\"150\" x2=\"600\" y2=\"150\" stroke=\"#999\"/><text x=\"0\" y=\"16\" font-size=\"16\">\(peak)</text><text x=\"0\" y=\"150\" font-size=\"16\">0</text>\n"
        for (index, bin) in timeline.bins.enumerated() {
            let height = 140 * Double(bin.accepted) / Double(peak)
            page += "<rect x=\"\(String(format: "%.2f", 32 + Double(index) * barWidth))\" y=\"\(String(format: "%.2f", 150 - height))\" width=\"\(String(format: "%.2f", max(1, barWidth - 1)))\" height=\"\(String(format: "%.2f", height))\" fill=\"#2e7d32\"><title>\(Self.e(w.date(iso: bin.start))): \(bin.accepted)</title></rect>\n"
        }
        page += "<text x=\"32\" y=\"176\" font-size=\"16\">\(Self.e(w.date(iso: timeline.bins.first?.start)))</text><text x=\"600\" y=\"176\" font-size=\"16\" text-anchor=\"end\">\(Self.e(w.date(iso: timeline.bins.last?.start)))</text>\n</svg>\n"
        let retries = w.attempts(self.retries.one, self.retries.two, self.retries.threeOrMore)
        return page + "<p class=\"meta\">\(w.busiest): \(peak) / \(unit) (\(String(format: "%.1f", peakRatePerSecond)) \(w.perSecond)) · \(Self.e(retries))</p>\n"
    }

    /// The biggest recipient domains: a bar each and a table.
    /// Each relay of a campaign that has several.
    func relaysHTML(_ w: ReportWords) -> String {
        guard let relays, !relays.isEmpty else { return "" }
        var page = "<h2 id=\"relays\">\(w.relays)</h2>\n<div class=\"scroll\"><table><tr>"
        page += w.relayColumns.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        for relay in relays {
            let numbers = [relay.attempts, relay.accepted, relay.deferred, relay.failed, relay.unknown].map { "<td class=\"n\">\($0)</td>" }.joined()
            page += "<tr><td>\(Self.e(relay.relay))</td>\(numbers)<td class=\"n\">\(Self.milliseconds(relay.replyP50))</td><td class=\"n\">\(Self.milliseconds(relay.replyP99))</td>"
            page += "<td class=\"n\">\(String(format: "%.0f s", relay.secondsOutOfRotation))</td><td class=\"reply\">\(Self.e(relay.outBecause.joined(separator: "; ")))</td></tr>\n"
        }
        return page + "</table></div>\n"
    }

    func domainsHTML(_ w: ReportWords) -> String {
        var page = "<h2>\(w.domains)</h2>\n"
        guard !domains.isEmpty else { return page }
        let largest = max(1, domains.map(\.messages).max() ?? 1)
        page += "<svg id=\"domains\" viewBox=\"0 0 600 \(domains.count * 26 + 4)\" role=\"img\" aria-label=\"\(w.domains)\">\n"
        for (index, domain) in domains.enumerated() {
            let y = index * 26 + 2
            page += "<text x=\"0\" y=\"\(y + 17)\" font-size=\"16\">\(Self.e(String(domain.domain.prefix(22))))</text>\n"
            var x = 220.0
            for (count, state) in [(domain.accepted, "accepted"), (domain.deferred, "deferred"), (domain.failed, "failed"), (domain.bounced, "bounced")] where count > 0 {
                let width = 370 * Double(count) / Double(largest)
                page += "<rect x=\"\(String(format: "%.2f", x))\" y=\"\(y)\" width=\"\(String(format: "%.2f", width))\" height=\"22\" fill=\"\(Self.colours[state] ?? "#999")\"><title>\(w.state(state)): \(count)</title></rect>\n"
                x += width
            }
        }
        page += "</svg>\n"
        let tracked = !engagement.tracked.isEmpty
        let engaged = tracked ? "<th>\(w.opened)</th><th>\(w.clicked)</th>" : ""
        page += "<div class=\"scroll\"><table><tr><th>\(w.domain)</th><th>\(w.sent)</th><th>\(w.state(MessageState.accepted.rawValue))</th><th>\(w.state(MessageState.deferred.rawValue))</th><th>\(w.state(MessageState.failed.rawValue))</th><th>\(w.state(MessageState.bounced.rawValue))</th>\(engaged)<th>\(w.mostCommonProblem)</th></tr>\n"
        for domain in domains {
            let problem = domain.commonProblem.map { "\(w.reason($0.reason)) (\($0.count))" }
            let did = tracked ? "<td class=\"n\">\(domain.opened)</td><td class=\"n\">\(domain.clicked)</td>" : ""
            page += "<tr><td>\(Self.e(domain.domain))</td><td class=\"n\">\(domain.messages)</td><td class=\"n\">\(domain.accepted)</td><td class=\"n\">\(domain.deferred)</td><td class=\"n\">\(domain.failed)</td><td class=\"n\">\(domain.bounced)</td>\(did)<td class=\"reply\">\(Self.e(problem))</td></tr>\n"
        }
        return page + "</table></div>\n"
    }

    /// Opens, clicks, replies: people first, machines apart, and each link.
    func engagementHTML(_ w: ReportWords) -> String {
        let g = engagement
        guard !g.tracked.isEmpty || g.replies + g.autoReplies > 0 else { return "" }
        var page = "<h2 id=\"engagement\">\(w.engagement)</h2>\n<div class=\"cards\">\n"
        if !g.tracked.isEmpty {
            page += "<div class=\"card\">\(w.opened)<b>\(g.uniqueOpens)</b>\(Self.percent(g.openRate))</div>\n"
        }
        if g.tracked.contains("clicks") {
            page += "<div class=\"card\">\(w.clicked)<b>\(g.uniqueClicks)</b>\(Self.percent(g.clickRate))</div>\n"
            page += "<div class=\"card\">\(w.clickToOpen)<b>\(Self.percent(g.clickToOpenRate))</b></div>\n"
        }
        page += "<div class=\"card\">\(w.replied)<b>\(g.repliedRecipients)</b>\(g.autoReplies) \(w.autoReplies)</div>\n"
        page += "<div class=\"card\">\(w.unsubscribed)<b>\(g.unsubscribes)</b></div>\n<div class=\"card\">\(w.complaints)<b>\(g.complaints)</b></div>\n</div>\n"
        page += "<p class=\"meta\">\(w.peopleOnly.replacingOccurrences(of: "DELIVERED", with: "\(g.delivered)")) "
        if g.machines.requests > 0 {
            let rules = g.machines.byRule.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\(Self.e($0.key)) \($0.value)" }.joined(separator: ", ")
            page += w.machinesMade.replacingOccurrences(of: "REQUESTS", with: "\(g.machines.requests)").replacingOccurrences(of: "RULES", with: rules)
            page += " " + w.onlyMachinesOpened.replacingOccurrences(of: "ONLY", with: "\(g.machines.openedOnly)")
        }
        page += "</p>\n"
        if !g.links.isEmpty {
            page += "<div class=\"scroll\"><table id=\"links\"><tr><th>\(w.link)</th><th>\(w.destination)</th><th>\(w.clicks)</th><th>\(w.clickers)</th><th>\(w.machines)</th></tr>\n"
            for link in g.links {
                page += "<tr><td class=\"n\">\(link.link)</td><td class=\"reply\">\(Self.e(link.destination))</td><td class=\"n\">\(link.clicks)</td><td class=\"n\">\(link.uniqueClickers)</td><td class=\"n\">\(link.machineRequests)</td></tr>\n"
            }
            page += "</table></div>\n"
        }
        return page
    }
}
