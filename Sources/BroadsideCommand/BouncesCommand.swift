import ArgumentParser
import Bounces
import Broadside
import Foundation
import Store
import Transport

struct BouncesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounces",
        abstract: "Bounce messages: parse them, record them from files or an IMAP mailbox, list those that matched nothing.",
        subcommands: [Parse.self, Import.self, Fetch.self, Unmatched.self])

    static func print(_ summary: BounceIntake.Summary, json: Bool) throws {
        if json {
            try Output.json(summary)
            return
        }
        Output.line("\(summary.messages) messages: \(summary.bounces) bounces (\(summary.matched) matched, \(summary.unmatched) unmatched, \(summary.duplicates) already recorded), \(summary.ignored) auto-replies and notices ignored, \(summary.suppressed) addresses suppressed, \(summary.unsubscribed) unsubscribe requests honoured, \(summary.replies) replies and \(summary.autoReplies) auto-replies counted")
        for skipped in summary.skipped.prefix(20) { Output.note("  skipped \(skipped.source): \(skipped.reason)") }
        for source in summary.truncated.prefix(20) { Output.note("  \(source) is larger than 20 MiB; only its first 20 MiB were read") }
    }

    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse bounce messages without touching the database.")
        @Argument(help: "Bounce messages (.eml, mbox).") var files: [String]
        @Flag(help: "Print one JSON object.") var json = false

        struct Result: Encodable {
            var file: String
            var recipient: String?
            var original_recipient: String?
            var action: String?
            var status: String?
            var reply_code: Int?
            var reason: String
            var hard: Bool
            var message_id: String?
            var campaign: String?
            var diagnostic: String?

            enum CodingKeys: String, CodingKey {
                case file, recipient, original_recipient, action, status, reply_code, reason, hard, message_id, campaign, diagnostic
            }

            /// Every key of the contract, null when unknown.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(file, forKey: .file)
                try container.encode(recipient, forKey: .recipient)
                try container.encode(original_recipient, forKey: .original_recipient)
                try container.encode(action, forKey: .action)
                try container.encode(status, forKey: .status)
                try container.encode(reply_code, forKey: .reply_code)
                try container.encode(reason, forKey: .reason)
                try container.encode(hard, forKey: .hard)
                try container.encode(message_id, forKey: .message_id)
                try container.encode(campaign, forKey: .campaign)
                try container.encode(diagnostic, forKey: .diagnostic)
            }
        }

        func run() throws {
            var results: [Result] = []
            try BounceIntake.forEachMessage(in: files) { message in
                if message.truncated { Output.note("note: \(message.source) is larger than 20 MiB; only its first 20 MiB were read") }
                for report in BounceParser.parse(message.bytes) {
                    results.append(Result(file: message.source, recipient: report.recipient, original_recipient: report.originalRecipient, action: report.action ?? report.kind.rawValue,
                                          status: report.status, reply_code: report.replyCode, reason: report.reason.rawValue, hard: report.hard,
                                          message_id: report.messageID, campaign: report.campaign, diagnostic: report.diagnostic))
                }
            }
            if json {
                struct All: Encodable { var results: [Result] }
                try Output.json(All(results: results))
            } else {
                for result in results {
                    Output.line("\(result.file)\t\(result.recipient ?? "-")\t\(result.reason)\(result.hard ? " (hard)" : "")\t\(result.status ?? "-")\t\(result.diagnostic?.prefix(100) ?? "")")
                }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record bounces from .eml files, Maildir folders and mbox files.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Files and folders.") var paths: [String]
        @Flag(name: .customLong("match-by-recipient"), help: "Match a bounce that names only a recipient (no signed return path, no Message-ID of ours) to that recipient's latest message; anyone can send such a bounce.") var matchByRecipient = false
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let intake = BounceIntake(store: try global.openStore(), policy: try global.configuration().suppression, now: Output.now(),
                                      secret: Secret.optional, matchByRecipient: matchByRecipient)
            var summary = BounceIntake.Summary()
            let progress = ProgressLine(json: json)
            try BounceIntake.forEachMessage(in: paths, { message in
                try intake.process(message.bytes, source: message.source, into: &summary)
                if message.truncated { summary.truncated.append(message.source) }
            }, bytesRead: { read, total in
                guard summary.messages % 500 == 0 else { return }
                progress.show("\(summary.messages) messages  \(summary.bounces) bounces", done: summary.messages, unit: "messages",
                              fraction: total > 0 ? Double(read) / Double(total) : 0)
            })
            progress.clear()
            try BouncesCommand.print(summary, json: json)
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch new bounces from an IMAP mailbox and record them; each message once, across runs.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A profile of the configuration file whose bounce_mailbox to read.") var profile: String?
        @Option(help: "The mailbox: imaps://host/INBOX (imap:// uses STARTTLS when offered).") var imap: String?
        @OptionGroup var signIn: SignInOptions
        @Option(name: .customLong("ca-file"), help: "A CA bundle to verify the server with.") var caFile: String?
        @Option(name: .customLong("move-to"), help: "Move processed messages to this folder instead of marking them seen.") var moveTo: String?
        @Flag(help: "Delete processed messages instead of marking them seen.") var delete = false
        @Flag(name: .customLong("match-by-recipient"), help: "Match a bounce that names only a recipient (no signed return path, no Message-ID of ours) to that recipient's latest message; anyone can send such a bounce.") var matchByRecipient = false
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if moveTo != nil && delete { throw ValidationError("choose --move-to or --delete, not both") }
        }

        func run() throws {
            let configured = try profile.map { name -> SendingProfile in
                guard let found = try global.configuration().profiles[name] else {
                    throw BroadsideError.input("there is no profile '\(name)' in the configuration")
                }
                return found
            }
            let fromCommandLine = signIn.givesPassword
            let environment = ProcessInfo.processInfo.environment
            guard let bounceURL = imap ?? configured?.bounceMailbox else {
                throw BroadsideError.input("give the mailbox with --imap, --user and --password-env (or --password-command), or a --profile with bounce_mailbox, bounce_user and bounce_password_env (or bounce_password_command)")
            }
            // The profile's reply mailbox too, when replies arrive elsewhere than bounces.
            var urls = [bounceURL]
            if imap == nil, let reply = configured?.replyMailbox, reply != bounceURL { urls.append(reply) }
            let intake = BounceIntake(store: try global.openStore(), policy: try global.configuration().suppression, now: Output.now(),
                                      secret: Secret.optional, matchByRecipient: matchByRecipient)
            var summary = BounceIntake.Summary()
            for url in urls {
                var account: IMAPMailbox.Account
                if let profile, let configured, configured.oauth != nil, !fromCommandLine, configured.bouncePasswordEnv == nil,
                   configured.bouncePasswordCommand == nil {
                    // The profile signs in with OAuth 2: its mailboxes are read with the same sign-in (XOAUTH2).
                    let (settings, oauth) = try AuthCommand.oauthProfile(profile, global: global)
                    let credentials = try TransportSetup.oauthCredentials(oauth, settings: settings, environment: environment)
                    account = IMAPMailbox.Account(url: url, user: signIn.user ?? configured.bounceUser ?? credentials.user, credentialSource: credentials)
                } else {
                    account = try passwordAccount(url, configured, fromCommandLine: fromCommandLine, environment: environment)
                }
                account.caFile = caFile
                let progress = ProgressLine(json: json)
                try intake.fetch(account, after: delete ? .delete : moveTo.map { .move($0) } ?? .markSeen, into: &summary) { fetched, due, sofar in
                    progress.show("\(fetched)/\(due) messages  \(sofar.bounces) bounces", done: fetched, unit: "messages",
                                  fraction: Double(fetched) / Double(max(due, 1)))
                }
                progress.clear()
            }
            try BouncesCommand.print(summary, json: json)
        }

        /// The mailbox from the command line or the profile, signed in with a password.
        func passwordAccount(_ url: String, _ configured: SendingProfile?, fromCommandLine: Bool, environment: [String: String]) throws -> IMAPMailbox.Account {
            guard let user = signIn.user ?? configured?.bounceUser,
                  let password = try TransportSetup.secret(variable: fromCommandLine ? signIn.passwordEnv : configured?.bouncePasswordEnv,
                                                           command: fromCommandLine ? signIn.passwordCommand : configured?.bouncePasswordCommand,
                                                           what: "mailbox password", environment: environment) else {
                throw BroadsideError.input("give the mailbox with --imap, --user and --password-env (or --password-command), or a --profile with bounce_mailbox, bounce_user and bounce_password_env (or bounce_password_command)")
            }
            return IMAPMailbox.Account(url: url, user: user, password: password)
        }
    }

    struct Unmatched: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unmatched", abstract: "Bounces that matched no message, newest first.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            for bounce in try global.openStoreForReading().unmatchedBounces() {
                Output.line("\(bounce.source)\t\(bounce.recipient ?? "-")\t\(bounce.reason ?? "-")\t\(bounce.diagnostic?.prefix(100) ?? "")")
            }
        }
    }
}
