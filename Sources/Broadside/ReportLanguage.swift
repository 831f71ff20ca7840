import Delivery
import Foundation

/// The language a report is written in: English or Chinese (labels, states, reasons,
/// dates). `report --lang`, else the campaign template's own language.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case english = "en", chinese = "zh"

    /// Chinese when the template is mostly written in Han characters (`serve`'s pages decide the same way).
    public static func of(template source: String?) -> ReportLanguage {
        guard let source else { return .english }
        let han = source.unicodeScalars.filter { (0x4E00...0x9FFF).contains($0.value) }.count
        return han > 10 ? .chinese : .english
    }

    public var words: ReportWords { self == .english ? .english : .chinese }
}

/// Every label of the HTML report, in one language.
public struct ReportWords: Sendable {
    var campaign, report, list, template, profile, status, created, started, finished: String
    var messages, delivered, hardBounces, complaints, rate, elapsed, perSecond: String
    var byState, acceptedOverTime, nothingAccepted, busiest, domains, domain, sent, mostCommonProblem: String
    var reasons, reason, state, count, exampleReply, none, notReached, recipient: String
    var unknownTitle, unknownText, madeBy: String
    var engagement, opened, clicked, clickToOpen, replied, autoReplies, unsubscribed, peopleOnly, machinesMade, onlyMachinesOpened: String
    var link, destination, clicks, clickers, machines: String
    /// The relays' section: its title and its columns (relay, sent, accepted, deferred, failed,
    /// unknown, reply p50, reply p99, out of rotation, why out).
    var relays: String
    var relayColumns: [String]
    var states: [MessageState: String]
    var reasonWords: @Sendable (FailureReason) -> String
    /// Seconds since 1970 as the reader writes a date and time (UTC).
    var date: @Sendable (Double) -> String
    /// "Messages by attempts: …".
    var attempts: @Sendable (Int, Int, Int) -> String

    static let english = ReportWords(
        campaign: "Campaign", report: "Broadside report", list: "List", template: "template", profile: "profile", status: "Status",
        created: "created", started: "started", finished: "finished",
        messages: "messages", delivered: "delivered", hardBounces: "hard bounces", complaints: "complaints", rate: "rate", elapsed: "elapsed",
        perSecond: "messages/s",
        byState: "Messages by state", acceptedOverTime: "Accepted over time", nothingAccepted: "Nothing accepted yet.", busiest: "Busiest",
        domains: "Recipient domains", domain: "domain", sent: "sent", mostCommonProblem: "most common problem",
        reasons: "Bounce and failure reasons", reason: "reason", state: "state", count: "count", exampleReply: "example reply", none: "None.",
        notReached: "Recipients not reached", recipient: "recipient",
        unknownTitle: "Outcome unknown",
        unknownText: "The connection was lost after the end of DATA: these may or may not have been delivered. Check with the relay's logs or the recipients; <code>broadside retry CAMPAIGN --unknown</code> sends them again with the same Message-ID.",
        madeBy: "Made by Broadside from its database.",
        engagement: "What recipients did", opened: "opened", clicked: "clicked", clickToOpen: "click-to-open", replied: "replied",
        autoReplies: "auto-replies", unsubscribed: "unsubscribed", peopleOnly: "People only, out of DELIVERED delivered.",
        machinesMade: "Machines made REQUESTS requests, not counted as people (RULES);",
        onlyMachinesOpened: "ONLY messages were opened only by machines.",
        link: "link", destination: "destination", clicks: "clicks", clickers: "clickers", machines: "machines",
        relays: "Relays",
        relayColumns: ["relay", "sent", "accepted", "deferred", "failed", "unknown", "reply p50", "reply p99", "out of rotation", "why it was out"],
        states: Dictionary(uniqueKeysWithValues: MessageState.allCases.map { ($0, $0.rawValue) }),
        reasonWords: { $0.inWords },
        date: { seconds in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "d MMM yyyy HH:mm 'UTC'"
            return formatter.string(from: Date(timeIntervalSince1970: seconds))
        },
        attempts: { one, two, more in "Messages by attempts: \(one) took one, \(two) took two, \(more) took three or more" })

    static let chinese = ReportWords(
        campaign: "活动", report: "Broadside 报告", list: "名单", template: "模板", profile: "发送配置", status: "状态",
        created: "创建于", started: "开始于", finished: "结束于",
        messages: "邮件", delivered: "送达率", hardBounces: "硬退信", complaints: "投诉", rate: "速度", elapsed: "用时", perSecond: "封/秒",
        byState: "各状态邮件数", acceptedOverTime: "接收随时间变化", nothingAccepted: "尚无邮件被接收。", busiest: "最繁忙",
        domains: "收件人域名", domain: "域名", sent: "发送", mostCommonProblem: "最常见问题",
        reasons: "退信与失败原因", reason: "原因", state: "状态", count: "数量", exampleReply: "服务器回复示例", none: "无。",
        notReached: "未送达的收件人", recipient: "收件人",
        unknownTitle: "结果未知",
        unknownText: "连接在 DATA 结束后中断：这些邮件可能已送达，也可能没有。请查看中继服务器日志或询问收件人；<code>broadside retry CAMPAIGN --unknown</code> 会以相同的 Message-ID 重新发送。",
        madeBy: "由 Broadside 根据其数据库生成。",
        engagement: "收件人的行为", opened: "打开", clicked: "点击", clickToOpen: "点击/打开比", replied: "回复", autoReplies: "条自动回复",
        unsubscribed: "退订", peopleOnly: "仅统计真人，基数为 DELIVERED 封已送达邮件。",
        machinesMade: "机器共请求 REQUESTS 次，不计入真人（RULES）；", onlyMachinesOpened: "ONLY 封邮件只被机器打开。",
        link: "链接", destination: "目标地址", clicks: "点击次数", clickers: "点击人数", machines: "机器请求",
        relays: "中继服务器",
        relayColumns: ["中继", "发送", "已接收", "延迟", "失败", "未知", "回复中位数", "回复 p99", "停用时长", "停用原因"],
        states: [.queued: "排队中", .claimed: "发送中", .awaitingReply: "等待回复", .accepted: "已接收", .deferred: "延迟",
                 .failed: "失败", .unknown: "未知", .bounced: "退信", .complained: "投诉", .skipped: "跳过"],
        reasonWords: { ReportWords.chineseReason($0) },
        date: { seconds in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "zh_CN")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy年M月d日 HH:mm 'UTC'"
            return formatter.string(from: Date(timeIntervalSince1970: seconds))
        },
        attempts: { one, two, more in "按尝试次数：\(one) 封一次成功，\(two) 封两次，\(more) 封三次或以上" })

    /// The reason as a manager reading Chinese would say it.
    static func chineseReason(_ reason: FailureReason) -> String {
        switch reason {
        case .userUnknown: return "地址不存在"
        case .hostUnknown: return "域名不存在"
        case .hasMoved: return "邮箱已迁移"
        case .notAccept: return "该域名不收邮件"
        case .mailboxFull: return "邮箱已满"
        case .suspend: return "邮箱已停用"
        case .exceedLimit: return "超出收件人限额"
        case .filtered: return "被收件人的过滤规则拒收"
        case .spamDetected: return "被判为垃圾邮件"
        case .virusDetected: return "被判为病毒"
        case .policyViolation: return "违反收件方策略"
        case .contentError: return "邮件格式有误被拒"
        case .notCompliantRFC: return "邮件不符合标准"
        case .messageTooBig: return "邮件过大"
        case .rejected: return "发件人地址被拒"
        case .blocked: return "发送服务器被封锁"
        case .badReputation: return "发送服务器信誉过低"
        case .requirePTR: return "发送服务器缺少反向解析"
        case .authFailure: return "SPF、DKIM 或 DMARC 验证失败"
        case .noRelaying: return "拒绝转发"
        case .securityError: return "未满足安全要求"
        case .speeding: return "服务器要求放慢速度"
        case .tooManyConnections: return "连接数过多"
        case .expired: return "多次重试后放弃"
        case .networkError: return "网络或 DNS 问题"
        case .systemError: return "收件方服务器故障"
        case .systemFull: return "收件方服务器已满"
        case .mailerError: return "收件方邮件程序故障"
        case .syntaxError: return "服务器无法理解"
        case .failedStartTLS: return "加密（TLS）失败"
        case .suppressed: return "在屏蔽名单中"
        case .onHold: return "尚未确定"
        case .undefined: return "未给出原因"
        case .delivered: return "已送达"
        case .feedback: return "被收件人标记为垃圾邮件"
        case .vacation: return "自动回复"
        }
    }

    /// A stored reason (a taxonomy id, or other text kept as it is) in these words.
    func reason(_ stored: String?) -> String {
        guard let stored else { return "" }
        return FailureReason(rawValue: stored).map(reasonWords) ?? stored
    }

    public func state(_ name: String) -> String {
        MessageState(rawValue: name).flatMap { states[$0] } ?? name
    }

    /// An ISO 8601 time of the report, as the reader writes dates.
    func date(iso: String?) -> String {
        guard let iso, let parsed = ISO8601DateFormatter().date(from: iso) else { return iso ?? "-" }
        return date(parsed.timeIntervalSince1970)
    }
}

/// The terminal table's sentences, in one language.
public struct TableWords: Sendable {
    var heading: @Sendable (_ campaign: String, _ list: String, _ template: String, _ hash: String, _ profile: String?) -> String
    var status: @Sendable (_ status: String, _ reason: String?, _ started: String, _ finished: String) -> String
    var total: String
    var rates: @Sendable (_ delivered: String, _ hard: String, _ soft: String, _ complaints: String) -> String
    var pace: @Sendable (_ attempts: Int, _ seconds: Double, _ perSecond: Double, _ busiest: Int) -> String
    var suppressedBy: String
    var refusedAtSMTP: String
    var domainColumns: [String]
    var openedClicked: [String]
    var reasonColumns: [String]
    var notReached: @Sendable (_ count: String) -> String
    var firstThousand: String
    var more: @Sendable (Int) -> String
    var unknown: @Sendable (Int) -> String
    var unknownAdvice: @Sendable (_ campaign: String) -> String
    var people: String
    var opened, clicked, clickToOpen, replied, unsubscribed, complaints: String
    var autoReplies: @Sendable (Int) -> String
    var ofDelivered: @Sendable (Int) -> String
    var machines: @Sendable (_ requests: Int, _ rules: String, _ openedOnly: Int, _ clickedOnly: Int) -> String
    var linkColumns: [String]

    static let english = TableWords(
        heading: { c, l, t, h, p in "Campaign \(c)  (list \(l), template \(t) #\(h)\(p.map { ", profile \($0)" } ?? ""))" },
        status: { s, r, a, b in "Status   \(s)\(r.map { " — \($0)" } ?? "")   started \(a)   finished \(b)" },
        total: "total",
        rates: { d, h, s, c in "Delivered \(d) · hard bounces \(h) · soft \(s) · complaints \(c)" },
        pace: { n, s, r, b in String(format: "%d attempts in %.1f s · %.1f messages/s · busiest minute %d accepted", n, s, r, b) },
        suppressedBy: "Suppressed by this campaign: ", refusedAtSMTP: "refused at SMTP time",
        domainColumns: ["domain", "sent", "accepted", "deferred", "failed", "bounced"], openedClicked: ["opened", "clicked"],
        reasonColumns: ["reason", "state", "count", "example"],
        notReached: { "Recipients not reached (\($0)):" }, firstThousand: "the first 1,000",
        more: { "… and \($0) more (report --json or --csv lists them all)" },
        unknown: { "\($0) message(s) may or may not have been delivered (the connection was lost after the end of DATA):" },
        unknownAdvice: { "Check with the recipients or the relay's logs; 'broadside retry \($0) --unknown' sends them again (same Message-ID)." },
        people: "People: ", opened: "opened", clicked: "clicked", clickToOpen: "click-to-open", replied: "replied",
        unsubscribed: "unsubscribed", complaints: "complaints",
        autoReplies: { " (and \($0) auto-replies)" }, ofDelivered: { " — of \($0) delivered" },
        machines: { n, rules, o, c in "Machines (not counted above): \(n) requests (\(rules)); \(o) messages only machines opened, \(c) only machines clicked" },
        linkColumns: ["link", "destination", "clicks", "clickers", "machines"])

    static let chinese = TableWords(
        heading: { c, l, t, h, p in "活动 \(c)（名单 \(l)，模板 \(t) #\(h)\(p.map { "，发送配置 \($0)" } ?? "")）" },
        status: { s, r, a, b in "状态   \(s)\(r.map { " — \($0)" } ?? "")   开始于 \(a)   结束于 \(b)" },
        total: "合计",
        rates: { d, h, s, c in "送达 \(d) · 硬退信 \(h) · 软退信 \(s) · 投诉 \(c)" },
        pace: { n, s, r, b in String(format: "%d 次尝试，用时 %.1f 秒 · %.1f 封/秒 · 最繁忙的一分钟接收 %d 封", n, s, r, b) },
        suppressedBy: "本活动加入屏蔽名单：", refusedAtSMTP: "发送时被拒",
        domainColumns: ["域名", "发送", "已接收", "延迟", "失败", "退信"], openedClicked: ["打开", "点击"],
        reasonColumns: ["原因", "状态", "数量", "示例"],
        notReached: { "未送达的收件人（\($0)）：" }, firstThousand: "前 1,000 位",
        more: { "… 另有 \($0) 位（report --json 或 --csv 列出全部）" },
        unknown: { "\($0) 封邮件可能已送达，也可能没有（连接在 DATA 结束后中断）：" },
        unknownAdvice: { "请询问收件人或查看中继服务器日志；'broadside retry \($0) --unknown' 会以相同的 Message-ID 重新发送。" },
        people: "真人：", opened: "打开", clicked: "点击", clickToOpen: "点击/打开比", replied: "回复",
        unsubscribed: "退订", complaints: "投诉",
        autoReplies: { "（另有 \($0) 条自动回复）" }, ofDelivered: { " — 基数 \($0) 封已送达" },
        machines: { n, rules, o, c in "机器（不计入上述数字）：\(n) 次请求（\(rules)）；\(o) 封邮件只被机器打开，\(c) 封只被机器点击" },
        linkColumns: ["链接", "目标地址", "点击次数", "点击人数", "机器请求"])
}

extension ReportLanguage {
    public var table: TableWords { self == .english ? .english : .chinese }
}
