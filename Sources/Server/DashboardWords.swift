import Broadside

/// The dashboard's words in English or Chinese: `?lang=zh`, else the browser's first
/// language (`Accept-Language`). Message states come from the report's words, so that the
/// dashboard and each campaign's page name them alike.
struct DashboardWords: Sendable {
    let language: ReportLanguage
    let title, campaigns, sending, messages, suppressionList, addresses: String
    let columns: [String]   // campaign, status, the states …, total, opened, clicked, replied
    let recentUnsubscribes, noneYet: String
    let unsubscribeColumns: [String]
    let relaysOut: String
    let relayColumns: [String]
    let meta: String
    let statuses: [String: String]

    func status(_ name: String) -> String { statuses[name] ?? name }

    static let states = ["queued", "sending", "accepted", "deferred", "failed", "unknown", "bounced", "complained", "skipped"]

    static func of(query: String?, acceptLanguage: String?) -> DashboardWords {
        if let query, let language = ReportLanguage(rawValue: query.lowercased()) { return language == .chinese ? .chinese : .english }
        // The first language the browser names decides (`zh-CN,zh;q=0.9,en;q=0.8`).
        let first = acceptLanguage?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return first.hasPrefix("zh") ? .chinese : .english
    }

    static let english = DashboardWords(
        language: .english, title: "Campaigns", campaigns: "campaigns", sending: "sending", messages: "messages",
        suppressionList: "suppression list", addresses: "addresses",
        columns: ["campaign", "status"] + states.map { $0 == "sending" ? "sending" : ReportLanguage.english.words.state($0) }
            + ["total", "opened", "clicked", "replied"],
        recentUnsubscribes: "Recent unsubscribes", noneYet: "None yet.", unsubscribeColumns: ["address", "how", "campaign", "when"],
        relaysOut: "Relays out of rotation", relayColumns: ["campaign", "relay", "since", "why"],
        meta: "Counts refresh every 2 seconds; opened, clicked and replied count people only (README, \"The report\").",
        statuses: [:])

    static let chinese = DashboardWords(
        language: .chinese, title: "活动", campaigns: "活动", sending: "个发送中", messages: "邮件", suppressionList: "屏蔽名单",
        addresses: "个地址",
        columns: ["活动", "状态"] + states.map { $0 == "sending" ? "发送中" : ReportLanguage.chinese.words.state($0) }
            + ["合计", "打开", "点击", "回复"],
        recentUnsubscribes: "最近的退订", noneYet: "暂无。", unsubscribeColumns: ["地址", "方式", "活动", "时间"],
        relaysOut: "停用中的中继服务器", relayColumns: ["活动", "中继", "开始于", "原因"],
        meta: "数字每 2 秒刷新；打开、点击和回复只统计真人（见 README 的 “The report”）。",
        statuses: ["active": "发送中", "paused": "已暂停", "finished": "已完成"])
}
