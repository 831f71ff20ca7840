import ArgumentParser
import Broadside
import Foundation
import Messages

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Render every message of a list without sending; report each problem with its row. Exit 2 if any.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The template file.") var template: String
    @Option(help: "The list.") var list: String
    @Option(help: "A folder per-recipient attachments may come from besides the template's own.") var attachments: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let store = try global.openStore()
        let loaded = try CampaignTemplate.load(path: template)
        let extras = MessageExtras(attachmentsRoot: attachments.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        let result = try CampaignCheck.run(template: loaded, list: list, store: store, now: Output.now(), extras: extras)
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

    func run() throws {
        let store = try global.openStore()
        let loaded = try CampaignTemplate.load(path: template)
        guard let summary = try store.list(named: list) else {
            throw BroadsideError.input("there is no list '\(list)'; import one with: broadside import FILE.csv --list \(list)")
        }
        try loaded.checkFields(against: summary.columns)
        let renderer = PersonalMessage(template: loaded, extras: MessageExtras(attachmentsRoot: attachments.map { URL(fileURLWithPath: $0).standardizedFileURL.path }))
        let count = limit ?? (out == nil ? 1 : 10)
        guard count > 0 else { throw ValidationError("--limit must be at least 1") }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        }
        var written = 0
        var domain = "preview.invalid"
        try store.forEachMember(of: list, limit: 1) { member in
            if let sender = try? renderer.sender(for: member.fields) { domain = sender.address.asciiDomain }
        }
        try store.forEachMember(of: list, limit: count) { member in
            let content: MessageContent
            do {
                content = try renderer.content(fields: member.fields, recipient: member.smtpAddress,
                                               messageID: "preview.\(member.line)@\(domain)", date: Int64(Output.now()))
            } catch {
                throw BroadsideError.input("line \(member.line) (\(member.displayAddress)): \(error)")
            }
            let bytes = Data(MessageComposer.compose(content))
            if let out {
                let file = URL(fileURLWithPath: out).appendingPathComponent(String(format: "%04d-line%d.eml", written + 1, member.line))
                try bytes.write(to: file)
            } else {
                FileHandle.standardOutput.write(bytes)
            }
            written += 1
        }
        if let out { Output.note("\(written) message\(written == 1 ? "" : "s") written to \(out)") }
    }
}
