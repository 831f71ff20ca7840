import ArgumentParser
import Broadside
import Delivery
import Dispatch
import Engine
import Foundation
import Signing
import Store
import Transport

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Create campaign C (or resume it: same template snapshot, same list) and send every due message.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The template file (to create the campaign).") var template: String?
    @Option(help: "The list (to create the campaign).") var list: String?
    @Option(help: "The campaign's name.") var campaign: String
    @Option(name: .customLong("test"), help: "Send one row's message, exactly as the campaign would, to this address instead; nothing is recorded.")
    var testAddress: String?
    @Option(help: "With --test: which row (1 = the first recipient).") var row: Int?
    @OptionGroup var delivery: DeliveryOptions

    func validate() throws {
        if row != nil && testAddress == nil { throw ValidationError("--row goes with --test ADDRESS") }
        if let row, row < 1 { throw ValidationError("--row must be at least 1") }
    }

    func run() throws {
        var run = SendRun(global: global, campaign: campaign, template: template, list: list, delivery: delivery)
        if let testAddress {
            run.test = (testAddress, row ?? 1)
        }
        try run.execute()
    }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused campaign: send its due messages with the settings it was started with.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The campaign.") var campaign: String
    @OptionGroup var delivery: DeliveryOptions

    func run() throws {
        try SendRun(global: global, campaign: campaign, template: nil, list: nil, delivery: delivery).execute()
    }
}

/// How to deliver; each overrides what the campaign was started with.
struct DeliveryOptions: ParsableArguments {
    @Option(help: "A sending profile of the configuration file, or a provider preset (gmail, google-workspace, outlook-com, exchange-online, netease-163, netease-126, qq, amazon-ses).") var profile: String?
    @Option(help: "The SMTP server: smtp://host:port (STARTTLS when offered) or smtps://host:port.") var smtp: String?
    @OptionGroup var signIn: SignInOptions
    @Option(name: .customLong("oauth2-token-env"), help: "The environment variable holding an OAuth 2 bearer token (XOAUTH2).") var oauth2TokenEnv: String?
    @Option(name: .customLong("oauth2-token-command"), help: "A command that prints an OAuth 2 bearer token (or token JSON with expires_in); run again when the token expires.") var oauth2TokenCommand: String?
    @Option(name: .customLong("oauth2-token-lifetime"), help: "How long a bare token from --oauth2-token-command lives (default 50m).") var oauth2TokenLifetime: String?
    @Option(help: "The name to give in EHLO.") var ehlo: String?
    @Option(name: .customLong("verp-domain"), help: "Give each message its own return path bounce+…@DOMAIN, signed with $BROADSIDE_SECRET.") var verpDomain: String?
    @Option(name: .customLong("unsubscribe-url"), help: "One-click unsubscribe base URL (https://…/u/); a signed token is appended.") var unsubscribeURL: String?
    @Option(name: .customLong("unsubscribe-mailto"), help: "An address for mailto unsubscribe requests.") var unsubscribeMailto: String?
    @Option(name: .customLong("dkim-key"), help: "Sign with DKIM using this PEM private key (RSA 2048+ or Ed25519).") var dkimKey: String?
    @Option(name: .customLong("dkim-selector"), help: "The DKIM selector (s=).") var dkimSelector: String?
    @Option(name: .customLong("dkim-domain"), help: "The DKIM signing domain (d=); default: the From domain.") var dkimDomain: String?
    @Option(help: "A folder per-recipient attachments may come from besides the template's own.") var attachments: String?
    @Option(help: "Track clicks and/or opens through `broadside serve`: clicks, opens or clicks,opens (off by default).") var track: String?
    @Option(name: .customLong("public-url"), help: "Where `broadside serve` answers from the internet (https://news.example.com): tracked links point there.") var publicURL: String?
    @Option(name: .customLong("save-sent"), help: "Append a copy of each accepted message to this IMAP folder (imaps://host/Sent), signed in as the sender.") var saveSent: String?
    @Option(name: .customLong("ca-file"), help: "A CA bundle to verify the server's certificate with.") var caFile: String?
    @Flag(name: .customLong("insecure-skip-verify"), help: "Do not verify the server's TLS certificate (never for a real relay).") var insecure = false
    @Option(help: "Concurrent SMTP connections.") var connections: Int?
    @Option(name: .customLong("messages-per-connection"), help: "Open a new connection after this many messages (default 100).") var messagesPerConnection: Int?
    @Option(name: .customLong("retry-delay"), help: "The first wait before retrying a deferred message (default 5m).") var retryDelay: String?
    @Option(name: .customLong("retry-max-delay"), help: "The longest wait between retries (default 2h).") var retryMaxDelay: String?
    @Option(name: .customLong("give-up-after"), help: "Fail a message still deferred this long after its first attempt (default 3d).") var giveUpAfter: String?
    @Option(name: .customLong("reply-timeout"), help: "How long to wait for a server reply (default 2m).") var replyTimeout: String?
    @Option(name: .customLong("throttle-cooldown"), help: "How long a 421 or rate-limit reply holds sending back (default 30s, doubling).") var throttleCooldown: String?
    @Option(name: .customLong("server-lost-timeout"), help: "Pause the campaign when the server stays unreachable this long (default 5m).") var serverLostTimeout: String?
    @Option(help: "A sending limit: 10/s, 600/min, 2000/day; repeat it for several windows at once.") var rate: [String] = []
    @Option(help: "Send at most N messages in this run.") var limit: Int?
    @Flag(help: "Keep running until no message is queued or deferred.") var follow = false
    @Flag(name: .customLong("dry-run"), help: "Write .eml files to the outbox folder instead of sending; record outcomes.") var dryRun = false
    @Option(help: "The outbox folder for --dry-run (default: ./outbox/CAMPAIGN).") var outbox: String?
    @Flag(help: "Print one JSON object at the end.") var json = false

    func validate() throws {
        if let connections, !(1...64).contains(connections) { throw ValidationError("--connections must be between 1 and 64") }
        for rate in rate where RateLimit(parsing: rate) == nil {
            throw ValidationError("--rate must look like 10/s, 600/min or 2000/day, not '\(rate)'")
        }
        for (name, value) in [("--retry-delay", retryDelay), ("--retry-max-delay", retryMaxDelay), ("--give-up-after", giveUpAfter),
                              ("--reply-timeout", replyTimeout), ("--oauth2-token-lifetime", oauth2TokenLifetime), ("--throttle-cooldown", throttleCooldown), ("--server-lost-timeout", serverLostTimeout)] {
            if let value, DurationText.seconds(value) == nil { throw ValidationError("\(name) must be a duration such as 30s, 5m, 2h or 3d, not '\(value)'") }
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    /// The campaign's settings with these options applied.
    func applied(to stored: CampaignSettings?, campaign: String, configuration: Configuration) throws -> CampaignSettings {
        var settings: CampaignSettings
        if let profile {
            // A profile on resume changes how the campaign is sent, not what it sends.
            let profiled = try configuration.settings(profile: profile)
            settings = try stored.map { try profiled.laid(over: $0) } ?? profiled
        } else {
            settings = stored ?? CampaignSettings()
        }
        if let oauth2TokenEnv { settings.oauth2TokenEnv = oauth2TokenEnv }
        if let oauth2TokenCommand { settings.oauth2TokenCommand = oauth2TokenCommand }
        if let value = oauth2TokenLifetime.flatMap(DurationText.seconds) { settings.oauth2TokenLifetime = value }
        if let ehlo { settings.ehlo = ehlo }
        if let verpDomain { settings.verpDomain = verpDomain }
        if let unsubscribeURL { settings.unsubscribeURL = unsubscribeURL }
        if let unsubscribeMailto { settings.unsubscribeMailto = unsubscribeMailto }
        if let dkimKey { settings.dkimKeyFile = dkimKey }
        if let dkimSelector { settings.dkimSelector = dkimSelector }
        if let dkimDomain { settings.dkimDomain = dkimDomain }
        if let attachments { settings.attachmentsRoot = URL(fileURLWithPath: attachments).standardizedFileURL.path }
        if let messagesPerConnection { settings.messagesPerConnection = messagesPerConnection }
        if let value = retryDelay.flatMap(DurationText.seconds) { settings.retryDelay = value }
        if let value = retryMaxDelay.flatMap(DurationText.seconds) { settings.retryMaxDelay = value }
        if let value = giveUpAfter.flatMap(DurationText.seconds) { settings.giveUpAfter = value }
        if let value = replyTimeout.flatMap(DurationText.seconds) { settings.replyTimeout = value }
        if let value = throttleCooldown.flatMap(DurationText.seconds) { settings.throttleCooldown = value }
        if let value = serverLostTimeout.flatMap(DurationText.seconds) { settings.serverLostTimeout = value }
        if dryRun {
            settings.outbox = outbox ?? "outbox/\(campaign)"
            settings.smtp = nil
            settings.relays = nil
        } else if let smtp {
            // One server named on the command line replaces the profile's relays.
            settings.smtp = smtp
            settings.outbox = nil
            settings.relays = nil
        }
        if let user = signIn.user { settings.user = user }
        if signIn.givesPassword {
            settings.passwordEnv = signIn.passwordEnv
            settings.passwordCommand = signIn.passwordCommand
        }
        if let caFile { settings.caFile = caFile }
        if let saveSent { settings.sentFolder = saveSent }
        if let track { settings.track = track.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty } }
        if let publicURL { settings.publicURL = publicURL }
        if insecure { settings.insecure = true }
        if let connections { settings.connections = connections }
        if !rate.isEmpty { settings.rates = rate }
        return settings
    }
}

/// `send` and `resume`: check the server, create or find the campaign, send, summarise.
struct SendRun {
    var global: GlobalOptions
    var campaign: String
    var template: String?
    var list: String?
    var delivery: DeliveryOptions
    /// `send --test ADDRESS --row N`: that row's message to ADDRESS, nothing recorded.
    var test: (address: String, row: Int)?

    struct Summary: Encodable {
        var campaign: String
        var accepted: Int
        var deferred: Int
        var failed: Int
        var unknown: Int
        var skipped: Int
        var queued: Int
        var elapsed_s: Double
        var rate_per_s: Double
        var stopped: String
        var next_attempt_at: String?
        /// Relays out of rotation when the run ended, with why.
        var relays_out: [String: String]?
    }

    func execute() throws {
        let store = try global.openStore()
        var existing = try store.campaign(named: campaign)
        var template = self.template, list = self.list
        if let stored = existing, stored.dryRun, template != nil || delivery.dryRun {
            // `send` (real or dry) replaces a dry run of the same name: it created nothing a recipient saw.
            template = template ?? stored.templatePath
            list = list ?? stored.listName
            existing = nil
        } else if let stored = existing, !stored.dryRun, delivery.dryRun {
            throw BroadsideError.input("campaign '\(campaign)' is a real campaign; give the dry run a name of its own")
        }
        if existing == nil, template == nil || list == nil {
            throw BroadsideError.input("there is no campaign '\(campaign)'; create it with: broadside send --template FILE --list NAME --campaign \(campaign) --smtp URL")
        }
        let stored = try existing.map { try CampaignSettings(json: $0.settings) }
        var settings = try delivery.applied(to: stored, campaign: campaign, configuration: try global.configuration())
        if settings.usesSecret {
            // Messages signed with another secret than the first ones would have links no single `serve` answers.
            let fingerprint = SecretFingerprint.of(try Secret.required())
            if let recorded = stored?.secretFingerprint, recorded != fingerprint {
                throw BroadsideError.environment("campaign '\(campaign)' was started with another \(Secret.variable) (its unsubscribe links and return paths are signed with that one); export the same secret to go on")
            }
            settings.secretFingerprint = fingerprint
        }
        if let existing, existing.dryRun, settings.outbox == nil {
            throw BroadsideError.input("campaign '\(campaign)' is a dry run; send it for real with: broadside send --campaign \(campaign) --template \(existing.templatePath) --list \(existing.listName) --smtp URL")
        }
        // Every check that can refuse runs before the first write: no campaign, no snapshot, no outbox folder.
        var relays = try TransportSetup.relays(settings, environment: ProcessInfo.processInfo.environment)
        let loaded = try CampaignSetup.template(name: campaign, templatePath: template, existing: existing)
        let extras = try MessageExtrasSetup.make(settings, template: loaded, database: store.identity)
        var options = settings.sendOptions
        options.limit = delivery.limit
        options.suppressDeadAddresses = try global.configuration().suppression.hardBounces
        if let domain = settings.verpDomain {
            options.verp = VERPAddress(domain: domain, secret: try Secret.required(), database: store.identity)
        }
        options.follow = delivery.follow
        let plan = try CampaignSetup.plan(name: campaign, templatePath: template, listName: list, existing: existing, template: loaded,
                                          extras: extras, settings: settings, dryRun: delivery.dryRun, store: store)
        // PDF attachments need LibreOffice: known before anything changes state.
        let converter = PersonalMessage(template: loaded).attachesPDFs && !delivery.dryRun ? try PDFConverter.ifNeeded(for: loaded) : nil
        // A wrong address or password stops here (exit 3), before anything changes state; of
        // several relays, one that fails starts out of rotation and the run's log says why.
        try TransportSetup.check(&relays)
        // What goes through one connection of its own (a test message, the Sent folder's sign-in): the first relay that answered.
        let transport = (relays.first { $0.outAtStart == nil } ?? relays[0]).transport
        // The Sent folder is opened before anything is written, like the server.
        let sentAccount = try (settings.outbox == nil ? settings.sentFolder : nil).map { folder -> IMAPMailbox.Account in
            let account = try TransportSetup.sentFolderAccount(folder, settings: settings, transport: transport,
                                                               environment: ProcessInfo.processInfo.environment)
            try SentCopier.verify(account)
            return account
        }
        if let oauth = settings.oauth, let user = settings.user, !delivery.json {
            Output.note("note: signing in as \(user) with OAuth 2 (XOAUTH2, \(oauth.provider.rawValue) \(oauth.flow.rawValue) sign-in of profile '\(settings.profile ?? "")')")
        }
        if let test {
            return try SendTest(address: test.address, row: test.row, plan: plan, extras: extras, transport: transport, store: store,
                                json: delivery.json).run()
        }

        // A campaign being sent by another run is refused here, before its settings are stored
        // (the run's own lock, taken below, would refuse it too, but after the write).
        if let existing, existing.isSending(in: store) {
            throw BroadsideError.environment("another `broadside send` is sending campaign '\(campaign)'; wait for it to finish or pause it (broadside pause \(campaign))")
        }
        let prepared = try CampaignSetup.start(plan, store: store, now: Output.now())
        if plan.templateChanged {
            Output.note("note: \(template ?? prepared.campaign.templatePath) has changed since campaign '\(campaign)' started; the campaign keeps the snapshot it started with")
        }
        for file in plan.changedFiles {
            Output.note("note: \(file) has changed since campaign '\(campaign)' started; the campaign sends the file as it was then")
        }
        let logger = makeLogger("broadside.send", quiet: delivery.json)
        let pdfs: PDFAttachments = try converter.map {
            .prepared(try PreparedPDFs(folder: PreparedPDFs.folder(database: store.path, campaign: prepared.campaign.id), converter: $0))
        } ?? .fillOnly
        let spool = sentAccount.map { _ in SentSpool(database: store.path, campaign: prepared.campaign.id) }
        let messages = RenderedMessages(renderer: PersonalMessage(template: prepared.template, extras: extras, files: prepared.files, pdfs: pdfs),
                                        store: store, spool: spool)
        let sender = CampaignSender(store: store, campaign: prepared.campaign, messages: messages, relays: relays, options: options, logger: logger)
        var copier: SentCopier?
        if let spool, let sentAccount {
            copier = SentCopier(store: store, campaignID: prepared.campaign.id, spool: spool, account: sentAccount, logger: logger)
        }
        copier?.start()

        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { sender.stop(.interrupted) }
            source.resume()
            return source
        }
        let display = ProgressDisplay(sender: sender, enabled: !delivery.json && Output.stderrIsTerminal)
        display.start()
        let started = Date()
        let reason: StopReason
        do {
            reason = try sender.run()
        } catch {
            display.stop()
            _ = copier?.finish()
            throw error
        }
        display.stop()
        signals.forEach { $0.cancel() }
        if let copies = copier?.finish() {
            if copies.waiting > 0 {
                Output.note("note: \(copies.waiting) Sent cop\(copies.waiting == 1 ? "y waits" : "ies wait") for \(settings.sentFolder ?? "the folder"), which could not be reached; 'broadside resume \(campaign)' appends them")
            }
            if copies.lost > 0 {
                Output.note("note: \(copies.lost) Sent cop\(copies.lost == 1 ? "y was" : "ies were") not appended: the message's file in \(spool?.folder.path ?? "") was removed")
            }
        }
        let renewals = relays.compactMap { ($0.transport as? SMTPTransport)?.server.credentialSource?.renewals }.reduce(0, +)
        if renewals > 0 {
            Output.note("note: the OAuth 2 token was renewed \(renewals) time\(renewals == 1 ? "" : "s") during the run")
        }

        // The run's figures as the report defines them: from its first attempt to its last.
        let span = try store.attemptSpan(campaignID: prepared.campaign.id, since: started.timeIntervalSince1970)
        let elapsed = max(0, (span.last ?? 0) - (span.first ?? 0))
        let counts = try store.counts(of: prepared.campaign.id)
        let acceptedThisRun = sender.progress.accepted
        let next = try store.nextDeferral(campaignID: prepared.campaign.id)
        let summary = Summary(
            campaign: campaign, accepted: counts[.accepted] ?? 0, deferred: counts[.deferred] ?? 0, failed: counts[.failed] ?? 0,
            unknown: counts[.unknown] ?? 0, skipped: counts[.skipped] ?? 0, queued: counts[.queued] ?? 0,
            elapsed_s: (elapsed * 1000).rounded() / 1000,
            rate_per_s: elapsed > 0 ? (Double(span.accepted) / elapsed * 10).rounded() / 10 : 0,
            stopped: Self.describe(reason), next_attempt_at: next.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) },
            relays_out: sender.relaysOut.isEmpty ? nil : sender.relaysOut)
        if delivery.json {
            try Output.json(summary)
        } else {
            Output.line("Campaign \(campaign): \(summary.accepted) accepted, \(summary.deferred) deferred, \(summary.failed) failed, \(summary.unknown) unknown, \(summary.skipped) skipped, \(summary.queued) queued")
            Output.line(String(format: "This run: %d accepted in %.1f s (%.1f messages/s); %@", acceptedThisRun, elapsed, summary.rate_per_s, summary.stopped))
            if case .capReached = reason {
                // A cap over hours or days counts what the profile sent in its window, across campaigns.
                let window = RateLimits.longestPeriod(settings.sendOptions.rates)
                let sent = try store.sendTimes(profile: settings.profileKey, since: Date().timeIntervalSince1970 - window).count
                Output.line("The cap is shared by every campaign sent with '\(settings.profileKey)': \(sent) message(s) went out in its last \(DurationText.describe(window))")
            } else if summary.queued > 0 {
                Output.line("\(summary.queued) message(s) are queued: 'broadside resume \(campaign)' sends them now")
            } else if let next = summary.next_attempt_at, summary.deferred > 0 {
                Output.line("Waiting for retries: \(summary.deferred) deferred message(s) fall due from \(next); run 'broadside resume \(campaign)' then, or send with --follow")
            }
            for (relay, why) in sender.relaysOut.sorted(by: { $0.key < $1.key }) {
                Output.line("Relay \(TerminalText.inert(relay)) was out of rotation at the end: \(TerminalText.inert(why))")
            }
            if summary.unknown > 0 {
                Output.line("\(summary.unknown) message(s) may or may not have been delivered; 'broadside retry \(campaign) --unknown' sends them again")
            }
        }
        switch reason {
        case .interrupted, .pausedByCommand: throw ExitCode(ExitStatus.interrupted)
        case .paused: throw ExitCode(ExitStatus.badEnvironment)   // every cause the engine pauses for lies in the environment
        case .finished, .limitReached, .capReached: break
        }
        if summary.failed > 0 { throw ExitCode(ExitStatus.workFailed) }
    }

    static func describe(_ reason: StopReason) -> String {
        switch reason {
        case .finished: return "nothing due is left"
        case .limitReached: return "stopped at --limit"
        case .interrupted: return "interrupted; paused cleanly"
        case .pausedByCommand: return "paused by 'broadside pause'"
        case .capReached(let until):
            return "a sending cap is reached; sending goes on at \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: until))) (resume then, or send with --follow to wait)"
        case .paused(let why): return "paused: \(why.description)"
        }
    }
}

/// The progress line on a terminal: accepted/total, rate, ETA, deferred and failed.
final class ProgressDisplay: @unchecked Sendable {
    private let sender: CampaignSender
    private let enabled: Bool
    private let done = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(sender: CampaignSender, enabled: Bool) {
        self.sender = sender
        self.enabled = enabled
    }

    func start() {
        guard enabled else { return }
        let thread = Thread { [self] in
            while done.wait(timeout: .now() + 0.5) == .timedOut { draw() }
            FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
            finished.signal()
        }
        thread.start()
    }

    func stop() {
        guard enabled else { return }
        done.signal()
        finished.wait()
    }

    private func draw() {
        let p = sender.progress
        let elapsed = max(Date().timeIntervalSince1970 - p.started, 0.001)
        let handled = p.accepted + p.deferred + p.failed + p.unknown
        let rate = Double(handled) / elapsed
        let line = String(format: "  %d/%d accepted  %.0f msg/s  ", p.accepted, p.due, rate)
            + ProgressLine.eta(elapsed: elapsed, done: p.due > 0 ? Double(handled) / Double(p.due) : 0)
            + "  deferred \(p.deferred)  failed \(p.failed)"
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
    }
}
