import ArgumentParser
import Broadside
import Foundation
import Store
import Messages
import Signing

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Render every message of a list without sending; report each problem with its row. Exit 2 if any.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The template file.") var template: String
    @Option(help: "The list.") var list: String
    @Option(help: "A folder per-recipient attachments may come from besides the template's own.") var attachments: String?
    @OptionGroup var links: LinkOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let store = try global.openStore()
        let loaded = try CampaignTemplate.load(path: template)
        // check sends nothing: without the secret, a stand-in signs links of the real length.
        let extras = try links.extras(attachments: attachments, secret: Secret.optional ?? "check-stand-in-secret", database: store.identity)
        let progress = ProgressLine(json: json)
        let result = try CampaignCheck.run(template: loaded, list: list, store: store, now: Output.now(), extras: extras) { checked, total in
            progress.show("\(checked)/\(total) messages checked", done: checked, unit: "messages", fraction: Double(checked) / Double(max(total, 1)))
        }
        progress.clear()
        if json {
            try Output.json(result)
        } else {
            for problem in result.problems {
                Output.line("line \(problem.line) (\(problem.recipient)): \(problem.problem)")
            }
            if result.more > 0 { Output.line("… and \(result.more) more problems") }
            let count = result.problems.count + result.more
            Output.line(count == 0
                ? "\(result.messages) messages checked against \(template): no problems"
                : "\(result.messages) messages checked against \(template): \(count) problem\(count == 1 ? "" : "s")")
        }
        if !result.problems.isEmpty { throw ExitCode(ExitStatus.badInput) }
    }
}

struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Write the first N rendered messages as .eml files, or print one to standard output.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The template file.") var template: String
    @Option(help: "The list.") var list: String
    @Option(help: "How many messages (default: 1 on standard output, 10 with --out).") var limit: Int?
    @Option(help: "Write .eml files (RFC 5322, CRLF) into this folder.") var out: String?
    @Option(help: "A folder per-recipient attachments may come from besides the template's own.") var attachments: String?
    @OptionGroup var links: LinkOptions

    func run() throws {
        let store = try global.openStore()
        let loaded = try CampaignTemplate.load(path: template)
        guard let summary = try store.list(named: list) else {
            throw BroadsideError.input("there is no list '\(list)'; import one with: broadside import FILE.csv --list \(list)")
        }
        try loaded.checkFields(against: summary.columns)
        // The links as the recipients will get them: signed with the real secret.
        let extras = try links.extras(attachments: attachments, secret: links.wantsLinks ? try Secret.required() : "", database: store.identity)
        try extras.checkLinks(in: loaded)
        let renderer = PersonalMessage(template: loaded, extras: extras)
        let count = limit ?? (out == nil ? 1 : 10)
        guard count > 0 else { throw ValidationError("--limit must be at least 1") }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        }
        var written = 0
        var problems: [String] = []
        var domain = "preview.invalid"
        try store.forEachMember(of: list, limit: 1) { member in
            if let sender = try? renderer.sender(for: member.fields) { domain = sender.address.asciiDomain }
        }
        // The members first (a preview is a few messages): their PDF attachments are made before they are rendered.
        var members: [ListMember] = []
        try store.forEachMember(of: list, limit: count) { members.append($0) }
        let (withPDFs, pdfs) = try renderer.makingPDFs(for: members.map { (Int64($0.line), $0.fields) })
        defer { pdfs?.discard() }
        for member in members {
            let content: MessageContent
            do {
                content = try withPDFs.content(fields: member.fields, recipient: member.smtpAddress,
                                               messageID: "preview.\(member.line)@\(domain)", date: Int64(Output.now()), message: Int64(member.line))
            } catch {
                // Every bad row is reported, not only the first.
                problems.append("line \(member.line) (\(member.displayAddress)): \(error)")
                continue
            }
            let bytes = Data(MessageComposer.compose(content))
            if let out {
                let base = String(format: "%04d-line%d", written + 1, member.line)
                try bytes.write(to: URL(fileURLWithPath: out).appendingPathComponent(base + ".eml"))
                // The documents merged for this recipient beside the message, to open as they are.
                for attachment in content.attachments where attachment.isMergedDocument {
                    try Data(attachment.data).write(to: URL(fileURLWithPath: out).appendingPathComponent("\(base) \(attachment.filename)"))
                }
            } else {
                // Several messages on standard output: a line between them says which is which.
                if count > 1 { FileHandle.standardOutput.write(Data("\(written > 0 ? "\n" : "")===== message \(written + 1): line \(member.line), \(member.displayAddress) =====\n".utf8)) }
                FileHandle.standardOutput.write(bytes)
            }
            written += 1
        }
        if let out { Output.note("\(written) message\(written == 1 ? "" : "s") written to \(out)") }
        if !problems.isEmpty {
            throw BroadsideError.input(problems.joined(separator: "\n"))
        }
    }
}

/// The unsubscribe links `check` and `preview` render, as `send` would.
struct LinkOptions: ParsableArguments {
    @Option(name: .customLong("unsubscribe-url"), help: "One-click unsubscribe base URL (https://…/u/), as send takes it.") var unsubscribeURL: String?
    @Option(name: .customLong("unsubscribe-mailto"), help: "An address for mailto unsubscribe requests, as send takes it.") var unsubscribeMailto: String?

    var wantsLinks: Bool { unsubscribeURL != nil || unsubscribeMailto != nil }

    func extras(attachments: String?, secret: String, database: String) throws -> MessageExtras {
        var extras = MessageExtras(unsubscribeURL: unsubscribeURL, unsubscribeMailto: unsubscribeMailto,
                                   attachmentsRoot: attachments.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        if wantsLinks { extras.tokens = UnsubscribeToken(secret: secret, database: database) }
        return extras
    }
}
