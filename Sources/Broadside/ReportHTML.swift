import Delivery
import Foundation
import Templates

/// The report as one self-contained HTML page: inline CSS, SVG charts, no script and no
/// external request. Every value that came from a list or a server is escaped.
extension CampaignReport {
    /// Opens, clicks, replies: people first, machines apart, and each link.
    func engagementHTML() -> String {
        func e(_ text: String?) -> String { HTML.escape(text ?? "") }
        let g = engagement
        guard !g.tracked.isEmpty || g.replies + g.autoReplies > 0 else { return "" }
        func percent(_ rate: Double) -> String { String(format: "%.2f%%", rate * 100) }
        var page = "<h2 id=\"engagement\">What recipients did</h2>\n<div class=\"cards\">\n"
        if !g.tracked.isEmpty {
            page += "<div class=\"card\">opened<b>\(g.uniqueOpens)</b>\(percent(g.openRate))</div>\n"
        }
        if g.tracked.contains("clicks") {
            page += "<div class=\"card\">clicked<b>\(g.uniqueClicks)</b>\(percent(g.clickRate))</div>\n"
            page += "<div class=\"card\">click-to-open<b>\(percent(g.clickToOpenRate))</b></div>\n"
        }
        page += "<div class=\"card\">replied<b>\(g.repliedRecipients)</b>\(g.autoReplies) auto-replies</div>\n"
        page += "<div class=\"card\">unsubscribed<b>\(g.unsubscribes)</b></div>\n<div class=\"card\">complaints<b>\(g.complaints)</b></div>\n</div>\n"
        page += "<p class=\"meta\">People only, out of \(g.delivered) delivered. "
        if g.machines.requests > 0 {
            let rules = g.machines.byRule.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\(e($0.key)) \($0.value)" }.joined(separator: ", ")
            page += "Machines made \(g.machines.requests) requests, not counted as people (\(rules)); \(g.machines.openedOnly) messages were opened only by machines."
        }
        page += "</p>\n"
        if !g.links.isEmpty {
            page += "<div class=\"scroll\"><table id=\"links\"><tr><th>link</th><th>destination</th><th>clicks</th><th>clickers</th><th>machines</th></tr>\n"
            for link in g.links {
                page += "<tr><td class=\"n\">\(link.link)</td><td class=\"reply\">\(e(link.destination))</td><td class=\"n\">\(link.clicks)</td><td class=\"n\">\(link.uniqueClickers)</td><td class=\"n\">\(link.machineRequests)</td></tr>\n"
            }
            page += "</table></div>\n"
        }
        return page
    }

    public func html() -> String {
        func e(_ text: String?) -> String { HTML.escape(text ?? "") }
        let colours: [String: String] = ["accepted": "#2e7d32", "bounced": "#c62828", "complained": "#ad1457", "failed": "#e53935",
                                         "deferred": "#f9a825", "unknown": "#6a1b9a", "skipped": "#9e9e9e", "queued": "#90a4ae",
                                         "claimed": "#b0bec5", "awaiting_reply": "#b0bec5"]
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Campaign \(e(campaign)) — Broadside report</title>
            <style>
            body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#222}
            h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
            .meta{color:#555;font-size:.9em}.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
            .card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:110px}.card b{display:block;font-size:1.3em}
            .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9em}
            th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}td.n{text-align:right}
            td.reply{font-family:monospace;font-size:.85em;word-break:break-word}svg{max-width:100%;height:auto}
            .legend span{display:inline-block;margin-right:10px;font-size:.85em}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
            @media print{body{max-width:none}.scroll{overflow:visible}}
            </style></head><body>
            <h1>Campaign \(e(campaign))</h1>
            <p class="meta">List <b>\(e(list))</b> · template \(e(template)) <code>#\(e(String(templateHash.prefix(12))))</code>\(profile.map { " · profile \(e($0))" } ?? "")<br>
            Status <b>\(e(status))</b>\(statusReason.map { " — \(e($0))" } ?? "") · created \(e(createdAt)) · started \(e(startedAt ?? "-")) · finished \(e(finishedAt ?? "-"))</p>
            <div class="cards">
            <div class="card">messages<b>\(total)</b></div>
            <div class="card">delivered<b>\(String(format: "%.2f%%", deliveryRate * 100))</b></div>
            <div class="card">hard bounces<b>\(String(format: "%.2f%%", hardBounceRate * 100))</b></div>
            <div class="card">complaints<b>\(String(format: "%.2f%%", complaintRate * 100))</b></div>
            <div class="card">rate<b>\(String(format: "%.1f/s", ratePerSecond))</b></div>
            <div class="card">elapsed<b>\(String(format: "%.0f s", elapsedSeconds))</b></div>
            </div>

            """

        // The state breakdown: one stacked bar, a legend, and the table.
        page += "<h2>Messages by state</h2>\n<svg id=\"states\" viewBox=\"0 0 600 40\" role=\"img\" aria-label=\"messages by state\">\n"
        var x = 0.0
        for state in Self.stateOrder {
            let count = totals[state.rawValue] ?? 0
            guard count > 0, total > 0 else { continue }
            let width = 600 * Double(count) / Double(total)
            page += "<rect x=\"\(String(format: "%.2f", x))\" y=\"0\" width=\"\(String(format: "%.2f", width))\" height=\"40\" fill=\"\(colours[state.rawValue] ?? "#999")\"><title>\(state.rawValue): \(count)</title></rect>\n"
            x += width
        }
        page += "</svg>\n<p class=\"legend\">"
        for state in Self.stateOrder where (totals[state.rawValue] ?? 0) > 0 {
            page += "<span><i style=\"background:\(colours[state.rawValue] ?? "#999")\"></i>\(state.rawValue) \(totals[state.rawValue] ?? 0) (\(String(format: "%.1f", percentages[state.rawValue] ?? 0))%)</span>"
        }
        page += "</p>\n"

        page += engagementHTML()

        // Throughput: accepted per minute.
        page += "<h2>Accepted per minute</h2>\n"
        if throughput.isEmpty {
            page += "<p>Nothing accepted yet.</p>\n"
        } else {
            let peak = max(1, throughput.map(\.accepted).max() ?? 1)
            let barWidth = min(40.0, max(2.0, 560.0 / Double(throughput.count)))
            page += "<svg id=\"throughput\" viewBox=\"0 0 600 180\" role=\"img\" aria-label=\"accepted per minute\">\n"
            page += "<line x1=\"30\" y1=\"150\" x2=\"600\" y2=\"150\" stroke=\"#999\"/><text x=\"0\" y=\"14\" font-size=\"11\">\(peak)</text><text x=\"0\" y=\"150\" font-size=\"11\">0</text>\n"
            for (index, minute) in throughput.enumerated() {
                let height = 140 * Double(minute.accepted) / Double(peak)
                page += "<rect x=\"\(String(format: "%.2f", 32 + Double(index) * barWidth))\" y=\"\(String(format: "%.2f", 150 - height))\" width=\"\(String(format: "%.2f", max(1, barWidth - 1)))\" height=\"\(String(format: "%.2f", height))\" fill=\"#2e7d32\"><title>\(e(minute.minute)): \(minute.accepted)</title></rect>\n"
            }
            page += "<text x=\"32\" y=\"168\" font-size=\"11\">\(e(throughput.first?.minute))</text><text x=\"600\" y=\"168\" font-size=\"11\" text-anchor=\"end\">\(e(throughput.last?.minute))</text>\n</svg>\n"
            page += "<p class=\"meta\">Busiest minute: \(peak) accepted (\(String(format: "%.1f", peakRatePerSecond)) messages/s) · \(e(attemptsInWords))</p>\n"
        }

        // Domains.
        page += "<h2>Recipient domains</h2>\n"
        if !domains.isEmpty {
            let largest = max(1, domains.map(\.messages).max() ?? 1)
            page += "<svg id=\"domains\" viewBox=\"0 0 600 \(domains.count * 22 + 4)\" role=\"img\" aria-label=\"messages per domain\">\n"
            for (index, domain) in domains.enumerated() {
                let y = index * 22 + 2
                page += "<text x=\"0\" y=\"\(y + 14)\" font-size=\"11\">\(e(String(domain.domain.prefix(28))))</text>\n"
                var x = 200.0
                for (count, state) in [(domain.accepted, "accepted"), (domain.deferred, "deferred"), (domain.failed, "failed"), (domain.bounced, "bounced")] where count > 0 {
                    let width = 390 * Double(count) / Double(largest)
                    page += "<rect x=\"\(String(format: "%.2f", x))\" y=\"\(y)\" width=\"\(String(format: "%.2f", width))\" height=\"18\" fill=\"\(colours[state] ?? "#999")\"><title>\(state): \(count)</title></rect>\n"
                    x += width
                }
            }
            page += "</svg>\n"
            page += "<div class=\"scroll\"><table><tr><th>domain</th><th>sent</th><th>accepted</th><th>deferred</th><th>failed</th><th>bounced</th><th>most common problem</th></tr>\n"
            for domain in domains {
                page += "<tr><td>\(e(domain.domain))</td><td class=\"n\">\(domain.messages)</td><td class=\"n\">\(domain.accepted)</td><td class=\"n\">\(domain.deferred)</td><td class=\"n\">\(domain.failed)</td><td class=\"n\">\(domain.bounced)</td><td class=\"reply\">\(e(Self.problemInWords(domain.commonProblem)))</td></tr>\n"
            }
            page += "</table></div>\n"
        }

        // Reasons.
        page += "<h2>Bounce and failure reasons</h2>\n"
        if reasons.isEmpty {
            page += "<p>None.</p>\n"
        } else {
            page += "<div class=\"scroll\"><table><tr><th>reason</th><th>state</th><th>count</th><th>example reply</th></tr>\n"
            for reason in reasons {
                page += "<tr><td title=\"\(e(reason.reason))\">\(e(FailureReason.words(for: reason.reason)))</td><td>\(e(reason.state))</td><td class=\"n\">\(reason.count)</td><td class=\"reply\">\(e(reason.example))</td></tr>\n"
            }
            page += "</table></div>\n"
        }

        // Recipients not reached.
        let notReached = problems.filter { $0.state != "unknown" }
        if !notReached.isEmpty {
            page += "<h2>Recipients not reached (\(notReached.count))</h2>\n<div class=\"scroll\"><table><tr><th>recipient</th><th>state</th><th>reason</th></tr>\n"
            for problem in notReached {
                page += "<tr><td>\(e(problem.recipient))</td><td>\(e(problem.state))</td><td title=\"\(e(problem.reply))\">\(e(problem.words))</td></tr>\n"
            }
            page += "</table></div>\n"
        }

        // Unknown outcomes.
        if !unknown.isEmpty {
            page += "<h2>Outcome unknown (\(unknown.count))</h2>\n<p>The connection was lost after the end of DATA: these may or may not have been delivered. Check with the relay's logs or the recipients; <code>broadside retry \(e(campaign)) --unknown</code> sends them again with the same Message-ID.</p>\n<ul>\n"
            for entry in unknown { page += "<li>\(e(entry.recipient))</li>\n" }
            page += "</ul>\n"
        }
        page += "<p class=\"meta\">Made by Broadside from its database.</p>\n</body></html>\n"
        return page
    }
}
