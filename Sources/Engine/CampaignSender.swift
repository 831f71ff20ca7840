import Delivery
import Foundation
import Logging
import Signing
import Store

/// How a `send` run goes.
public struct SendOptions: Sendable {
    /// Concurrent SMTP connections, each on a thread of its own.
    public var connections = 4
    /// An address refused at SMTP time as dead (5.1.1 …) goes on the suppression list (the
    /// policy's `hard_bounces`).
    public var suppressDeadAddresses = true
    /// Send at most this many messages in this run.
    public var limit: Int?
    /// Keep running until nothing is queued or deferred, waiting for deferred messages to fall due.
    public var follow = false
    /// Limits on the whole profile, all at once (per second, minute, hour, day).
    public var rates: [RateLimit] = []
    /// Limits per recipient domain.
    public var domainLimits: [String: [RateLimit]] = [:]
    /// What rolling caps are counted by, across campaigns (the profile's name or server).
    public var profileKey = ""
    /// Signed per-message return paths, when a bounce domain is configured.
    public var verp: VERPAddress?
    public var retry = RetryPolicy()
    /// Messages claimed from the database at a time.
    public var batchSize = 256
    /// When a lost server, throttling, refused senders or missing verdicts pause or slow the
    /// campaign (see `RelayHealth` for each rule and its default).
    public var health = RelayHealth.Settings()

    public init() {}
}

/// Why a run ended.
public enum StopReason: Sendable, Equatable {
    /// Nothing due is left.
    case finished
    /// `--limit` messages were sent.
    case limitReached
    /// A daily (or other long) cap is reached: sending may go on at this time.
    case capReached(until: Double)
    /// Ctrl-C or SIGTERM: paused cleanly.
    case interrupted
    /// `broadside pause` from another terminal: paused cleanly.
    case pausedByCommand
    /// The engine paused it by itself (server lost, database failed …), with why.
    case paused(PauseCause)
}

/// Where a running campaign stands, for the progress display.
public struct SendProgress: Sendable {
    public var due: Int
    public var accepted = 0
    public var deferred = 0
    public var failed = 0
    public var unknown = 0
    public var started: Double
}

/// Sends a campaign's due messages: one thread claims and renders batches and hands each
/// message to a relay (`RelayRotation`: by weight, around relays out of rotation) through
/// that relay's bounded feed; one OS thread per connection takes from its relay's feed and
/// runs libcurl (never on Swift's cooperative pool); the ledger records every step in the
/// database.
public final class CampaignSender: @unchecked Sendable {
    private struct Job: Sendable {
        var message: OutgoingMessage
        var attempts: Int
        var firstAttemptAt: Double?
        /// The recipient's domain, lowercased: it decides the relays and the domain's limits.
        var domain: String
        /// The message that finds out whether its resting relay is back.
        var probe = false
    }

    private struct RunState {
        var stop: StopReason?
        /// `--limit` claimed its last message: production ends, messages in flight still go.
        var limitReached = false
        var sentThisRun = 0
        /// Claimed messages whose outcome is not known yet.
        var inFlight = 0
        /// Messages handed back to the queue, or deferred to be due at once (rerouted): once
        /// the ledger has written them the producer claims them again.
        var handedBack = 0
        /// Which relay carries each message, and each relay's health (pure, see `RelayRotation`).
        var rotation: RelayRotation
        var progress: SendProgress
        /// The profile's, the relays' and the domains' limits (pure, see `SendGate`).
        var gate = SendGate(profile: RateLimits([]))
    }

    private let store: Store
    private let campaign: CampaignRecord
    private let messages: any CampaignMessages
    private let relays: [Relay]
    private let options: SendOptions
    private let clock: any WallClock
    private let random: @Sendable () -> Double
    private let logger: Logger
    /// One feed a relay: what the producer routed to it and its connections have not taken yet.
    private let feeds: [MessageFeed<Job>]
    private let state: Locked<RunState>
    private let wake = NSCondition()

    /// A campaign through its one server, with `options.connections` connections.
    public convenience init(store: Store, campaign: CampaignRecord, messages: any CampaignMessages, transport: any MessageTransport,
                            options: SendOptions, clock: any WallClock = SystemClock(),
                            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        self.init(store: store, campaign: campaign, messages: messages,
                  relays: [Relay(name: nil, transport: transport, connections: options.connections)],
                  options: options, clock: clock, random: random, logger: logger)
    }

    /// A campaign through one or several relays (`relays` is never empty).
    public init(store: Store, campaign: CampaignRecord, messages: any CampaignMessages, relays: [Relay],
                options: SendOptions, clock: any WallClock = SystemClock(),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger) {
        precondition(!relays.isEmpty, "a campaign goes through at least one relay")
        self.store = store
        self.campaign = campaign
        self.messages = messages
        self.relays = relays
        self.options = options
        self.clock = clock
        self.random = random
        self.logger = logger
        self.feeds = relays.map { MessageFeed(capacity: Self.feedCapacity(relay: $0, options: options)) }
        let rotation = RelayRotation(relays: relays.map { RelayRotation.Relay(name: $0.label, weight: $0.weight, domains: Set($0.domains)) },
                                     health: options.health)
        self.state = Locked(RunState(rotation: rotation, progress: SendProgress(due: 0, started: clock.now())))
    }

    /// How many rendered messages may wait for a relay: two batches, but no more than about a
    /// second of sending under a per-second rate (the profile's or the relay's), so that what
    /// waits is never far behind the rotation (a relay back from a rest gets its share at once).
    static func feedCapacity(relay: Relay, options: SendOptions) -> Int {
        let smooth = (options.rates + relay.rates).filter { $0.period <= RateLimits.smoothUpTo }
        let perSecond = smooth.map { Double($0.count) / $0.period }.min()
        let room = perSecond.map { min(options.batchSize * 2, Int($0.rounded(.up))) } ?? options.batchSize * 2
        return max(room, relay.connections * 4)
    }

    /// Jobs routed at once: at most what the smallest feed holds, and 64.
    private var pickAhead: Int { min(64, feeds.map(\.capacity).min() ?? 64) }

    /// Connections over all relays: each has a number of its own (the in-flight log's slots, the events).
    private var connections: Int { relays.reduce(0) { $0 + $1.connections } }

    /// Asks the run to stop: no more claims, messages in flight finish, the rest go back to the queue.
    /// Returns whether this call stopped the run (the first reason given wins).
    @discardableResult
    public func stop(_ reason: StopReason) -> Bool {
        let first = state.withLock { state -> Bool in
            guard state.stop == nil else { return false }
            state.stop = reason
            return true
        }
        guard first else { return false }
        feeds.forEach { $0.close() }
        wake.lock()
        wake.broadcast()
        wake.unlock()
        return true
    }

    public var progress: SendProgress { state.withLock { $0.progress } }

    /// The relays out of rotation now, by name, with why (none for a campaign's one server).
    public var relaysOut: [String: String] {
        state.withLock { state in
            var out: [String: String] = [:]
            for (index, relay) in relays.enumerated() {
                if let name = relay.name, let why = state.rotation.whyOut(index) { out[name] = why }
            }
            return out
        }
    }

    private var stopping: Bool { state.withLock { $0.stop != nil } }

    /// Runs until nothing due is left (or the limit, a pause, an interrupt). Blocks the
    /// calling thread; call it from a plain thread, not from an async task.
    public func run() throws -> StopReason {
        let started = clock.now()
        let log = try InFlightLog(path: InFlightLog.path(database: store.path, campaign: campaign.id))
        let recovered = try store.recover(campaignID: campaign.id, inFlight: log.leftOver, now: started,
                                          suppressDeadAddresses: options.suppressDeadAddresses)
        try store.closeRelayPeriods(campaignID: campaign.id, at: nil)
        try log.start(connections: connections)
        if recovered.unknown > 0 {
            logger.warning("\(recovered.unknown) message(s) were awaiting the server's reply when the last run stopped; they are now 'unknown' (see: broadside retry \(campaign.name) --unknown)")
        }
        let counts = try store.counts(of: campaign.id)
        // A finished campaign with nothing due stays finished (its finished_at is set once).
        if campaign.status != .finished || (counts[.queued] ?? 0) + (counts[.deferred] ?? 0) > 0 {
            try store.setStatus(.active, of: campaign.id, now: started)
        }
        // Long windows start from what the database says went out: a restart does not reset a daily cap.
        let profileHistory = try store.sendTimes(profile: options.profileKey, since: started - RateLimits.longestPeriod(options.rates))
        var domainLimits: [String: RateLimits] = [:]
        for (domain, limits) in options.domainLimits {
            let history = try store.sendTimes(profile: options.profileKey, domain: domain, since: started - RateLimits.longestPeriod(limits))
            domainLimits[domain.lowercased()] = RateLimits(limits, history: history)
        }
        // A relay's own caps count what went through it, across the profile's campaigns.
        let relayLimits = try relays.map { relay -> RateLimits in
            guard let name = relay.name, !relay.rates.isEmpty else { return RateLimits(relay.rates) }
            return RateLimits(relay.rates, history: try store.sendTimes(profile: options.profileKey, relay: name,
                                                                        since: started - RateLimits.longestPeriod(relay.rates)))
        }
        let ledger = DeliveryLedger(store: store, campaignID: campaign.id, clock: clock, suppressDeadAddresses: options.suppressDeadAddresses)
        state.withLock {
            $0.progress = SendProgress(due: (counts[.queued] ?? 0) + (counts[.deferred] ?? 0), started: started)
            $0.gate = SendGate(profile: RateLimits(options.rates, history: profileHistory), domains: domainLimits, relays: relayLimits)
        }
        // Relays the check before the run could not use start out of rotation: a refused
        // sign-in or TLS for the run, a server not reached until its probe.
        for (index, relay) in relays.enumerated() {
            guard let cause = relay.outAtStart else { continue }
            let change = state.withLock { state -> RelayRotation.Change? in
                switch cause {
                case .signInRequired, .tlsRefused: return state.rotation.leaveOut(index, cause: cause, at: started)
                default: break
                }
                return state.rotation.rest(index, until: started + options.health.reconnectDelay, reason: cause.description, at: started)
            }
            if let change { record(change, ledger: ledger, at: started) }
            logger.warning("relay \(relay.label) is out of rotation: \(TerminalText.inert(cause.description))")
        }

        let watch = try SuppressionWatch(store: store)
        let threads = DispatchGroup()
        var number = 0
        for (index, relay) in relays.enumerated() {
            for _ in 0..<relay.connections {
                number += 1
                let connection = number
                threads.enter()
                let thread = Thread { [self] in
                    defer { threads.leave() }
                    sendLoop(relay: index, connection: connection, ledger: ledger, log: log, watch: watch)
                }
                thread.name = "broadside-smtp-\(connection)"
                thread.start()
            }
        }
        threads.enter()
        let producer = Thread { [self] in
            defer { threads.leave() }
            produce(ledger: ledger)
        }
        producer.name = "broadside-producer"
        producer.start()
        // `broadside pause` from another terminal sets the status: this thread watches for
        // it (the others may be blocked for long: a full feed, a rate limit, a lost server).
        // It also takes in new suppressions, so that an unsubscribe stops mail already rendered.
        while threads.wait(timeout: .now() + 0.5) == .timedOut {
            if !stopping, let status = try? store.status(of: campaign.id), status == .paused { stop(.pausedByCommand) }
            watch.refresh()
        }

        if let error = ledger.close() {
            // The in-flight log stays: the next run records what it holds.
            throw EngineError("recording outcomes in \(store.path) failed: \(error)")
        }
        log.remove()
        try store.closeRelayPeriods(campaignID: campaign.id, at: clock.now())
        messages.runEnded()
        let reason = state.withLock { $0.stop ?? ($0.limitReached ? .limitReached : .finished) }
        let now = clock.now()
        let remaining = try store.counts(of: campaign.id)
        switch reason {
        case .interrupted:
            try store.setStatus(.paused, reason: "interrupted", of: campaign.id, now: now)
        case .pausedByCommand:
            break   // `broadside pause` set the status already
        case .paused(let why):
            try store.setStatus(.paused, reason: why.description, of: campaign.id, now: now)
        case .finished, .limitReached, .capReached:
            let open = (remaining[.queued] ?? 0) + (remaining[.deferred] ?? 0) + (remaining[.claimed] ?? 0)
            if open == 0 { try store.setStatus(.finished, of: campaign.id, now: now) }
        }
        return reason
    }

    /// Claims and renders due messages and routes them to relays until none are due or the run stops.
    private func produce(ledger: DeliveryLedger) {
        defer { feeds.forEach { $0.close() } }
        var handedBackSeen = 0
        while !stopping {
            let now = clock.now()
            // With PDFs to make, smaller batches: sending starts after the first few documents,
            // not after hundreds, and goes on while LibreOffice makes the next ones.
            var batch = min(messages.batchLimit ?? options.batchSize, options.batchSize)
            if let limit = options.limit {
                let left = limit - state.withLock { $0.sentThisRun }
                if left <= 0 {
                    state.withLock { $0.limitReached = true }
                    return
                }
                batch = min(batch, left)
            }
            let claimed: [ClaimedMessage]
            do {
                claimed = try store.claim(campaignID: campaign.id, limit: batch, now: now)
            } catch {
                logger.error("claiming messages failed: \(error)")
                stop(.paused(.databaseFailed("\(error)")))
                return
            }
            if claimed.isEmpty {
                // Messages still in flight may come back deferred: wait for their outcomes.
                let (inFlight, handedBack) = state.withLock { ($0.inFlight, $0.handedBack) }
                if inFlight > 0 {
                    waitUntil(clock.now() + 0.02)
                    continue
                }
                // Messages handed back (their relay left rotation) are due again once written.
                if handedBack > handedBackSeen {
                    handedBackSeen = handedBack
                    ledger.waitForCommits()
                    continue
                }
                guard options.follow else { return }
                ledger.waitForCommits()
                // A database that fails here pauses the run: it must not read as "nothing deferred, finished".
                let next: Double?, queued: Int
                do {
                    next = try store.nextDeferral(campaignID: campaign.id)
                    queued = try store.counts(of: campaign.id)[.queued] ?? 0
                } catch {
                    logger.error("reading the campaign's deferred messages failed: \(error)")
                    stop(.paused(.databaseFailed("\(error)")))
                    return
                }
                guard let next else {
                    // Nothing deferred: one more claim sees whatever the last commits queued.
                    if queued > 0 { continue }
                    return
                }
                waitUntil(next)
                continue
            }
            state.withLock {
                $0.sentThisRun += claimed.count
                $0.inFlight += claimed.count
            }
            // Attachments made per batch come first (PDFs, in LibreOffice's processes): a
            // message whose attachment could not be made waits (deferred), never leaves without it.
            let postponed = messages.prepare(claimed)
            var jobs: [Job] = []
            jobs.reserveCapacity(claimed.count)
            let date = Int64(now)
            for message in claimed {
                if let why = postponed[message.id] {
                    ledger.append(.postponed(message: message.id, reason: why, at: now, until: now + options.retry.firstDelay))
                    state.withLock {
                        $0.progress.deferred += 1
                        $0.inFlight -= 1
                    }
                    continue
                }
                do {
                    let returnPath = options.verp?.address(campaign: campaign.id, message: message.id) ?? message.returnPath
                    let outgoing = try messages.message(for: message, campaign: campaign.id, returnPath: returnPath, date: date)
                    jobs.append(Job(message: outgoing, attempts: message.attempts, firstAttemptAt: message.firstAttemptAt,
                                    domain: routesByDomain ? Self.domain(of: message.recipient) : ""))
                } catch let error as SentCopyNotKept {
                    release(message.id, ledger: ledger)
                    stop(.paused(.sentCopyNotKept(error.description)))
                } catch {
                    ledger.append(.notSent(message: message.id, reason: "not sent: \(error)", at: now))
                    state.withLock {
                        $0.progress.failed += 1
                        $0.inFlight -= 1
                    }
                }
            }
            if !route(jobs, ledger: ledger) { return }
        }
    }

    /// Hands each job to the relay the rotation picks, waiting while every relay that could
    /// carry it rests. False when the run stopped meanwhile: the jobs not handed over go back
    /// to the queue (those already in a feed go back through the connections that take them).
    private func route(_ jobs: [Job], ledger: DeliveryLedger) -> Bool {
        var next = 0
        while next < jobs.count {
            let now = clock.now()
            // The relays of the next few jobs, under one lock: no more than the smallest feed
            // holds, so that what is decided is never far behind the rotation (a relay back
            // from a rest is probed with the next few, not after the whole batch).
            let picks = state.withLock { state -> [RelayRotation.Pick] in
                var picks: [RelayRotation.Pick] = []
                for job in jobs[next...].prefix(pickAhead) {
                    let pick = state.rotation.pick(domain: job.domain, now: now)
                    picks.append(pick)
                    guard case .relay = pick else { break }
                }
                return picks
            }
            // Runs of jobs for the same relay go into its feed at once (one run a batch with one relay).
            var index = 0
            while index < picks.count, case .relay(let relay, _) = picks[index] {
                var run: [Job] = []
                while index < picks.count, case .relay(relay, let probe) = picks[index] {
                    var job = jobs[next + index]
                    job.probe = probe
                    run.append(job)
                    index += 1
                }
                let notFed = feeds[relay].put(run)
                if !notFed.isEmpty {
                    for job in notFed { release(job, relay: relay, ledger: ledger) }
                    for (offset, pick) in picks.enumerated().dropFirst(index) {
                        if case .relay(let other, let probe) = pick, probe { state.withLock { $0.rotation.probeReturned(other, at: clock.now()) } }
                        release(jobs[next + offset].message.id, ledger: ledger)
                    }
                    for job in jobs[(next + picks.count)...] { release(job.message.id, ledger: ledger) }
                    return false
                }
            }
            next += index
            guard index < picks.count else { continue }
            let job = jobs[next]
            switch picks[index] {
            case .relay:
                break
            case .wait(let until, let capped):
                // Every relay for it rests for its own cap, for long: as with the profile's cap,
                // the run ends unless --follow (`resume` goes on when they allow).
                if capped && until - now > 60 && !options.follow {
                    stop(.capReached(until: until))
                }
                if stopping {
                    for job in jobs[next...] { release(job.message.id, ledger: ledger) }
                    return false
                }
                waitUntil(min(until, now + 0.5))
            case .noneLeft:
                // Its domain's relays are left out while others carry the rest: it waits for a later run.
                let cause = state.withLock { $0.rotation.pauseCause }
                if let cause {
                    if stop(.paused(cause)) { logger.error("\(TerminalText.inert(cause.description)); pausing the campaign") }
                    for job in jobs[next...] { release(job.message.id, ledger: ledger) }
                    return false
                }
                ledger.append(.postponed(message: job.message.id, reason: "no relay for \(job.domain) is left in this run",
                                         at: now, until: now + options.retry.firstDelay))
                state.withLock {
                    $0.progress.deferred += 1
                    $0.inFlight -= 1
                }
                next += 1
            }
        }
        return true
    }

    /// Whether a recipient's domain decides anything (a relay kept for domains, limits per
    /// domain); else it is not worked out for each message.
    private var routesByDomain: Bool { !options.domainLimits.isEmpty || relays.contains { !$0.domains.isEmpty } }

    /// The recipient's domain, lowercased.
    private static func domain(of recipient: String) -> String {
        recipient.split(separator: "@").last.map { $0.lowercased() } ?? ""
    }

    /// One connection of relay `relay`: takes messages from its feed and sends them, one at a time.
    private func sendLoop(relay: Int, connection: Int, ledger: DeliveryLedger, log: InFlightLog, watch: SuppressionWatch) {
        var session: (any TransportSession)?
        defer { session?.close() }
        // The connection's slots in the in-flight log, each with the ledger ticket of the result it last held.
        var slot = 0
        var slotTickets = [Int](repeating: 0, count: InFlightLog.slotsPerConnection)
        while let job = feeds[relay].take() {
            if stopping || ledger.hasFailed {
                release(job, relay: relay, ledger: ledger)
                continue
            }
            if session == nil {
                do {
                    session = try relays[relay].transport.makeSession(number: connection)
                } catch {
                    release(job, relay: relay, ledger: ledger)
                    leaveOut(relay, cause: .cannotConnect("\(error)"), ledger: ledger)
                    continue
                }
            }
            guard let current = session else { continue }
            // Once a slot is taken the message goes, even if the run is stopping meanwhile.
            switch waitForLimits(relay: relay, domain: job.domain, probe: job.probe, ledger: ledger) {
            case .go:
                break
            case .notNow:
                release(job, relay: relay, ledger: ledger)
                continue
            case .postponed(let until, let reason):
                let now = clock.now()
                ledger.append(.postponed(message: job.message.id, reason: reason, at: now, until: until))
                state.withLock {
                    $0.progress.deferred += 1
                    $0.inFlight -= 1
                    if job.probe { $0.rotation.probeReturned(relay, at: now) }
                }
                continue
            }
            // A slot is reused once the database has the result it held (rarely waited for: the ledger is milliseconds behind).
            guard ledger.waitFor(slotTickets[slot]) else {
                release(job, relay: relay, ledger: ledger)
                continue
            }
            // The last look before the wire: an address suppressed since the claim gets nothing.
            if watch.isSuppressed(job.message.envelope.recipient) {
                ledger.append(.skipped(message: job.message.id, reason: "suppressed while waiting to be sent", at: clock.now()))
                state.withLock {
                    $0.inFlight -= 1
                    if job.probe { $0.rotation.probeReturned(relay, at: clock.now()) }
                }
                continue
            }
            if job.message.envelope.copies.contains(where: watch.isSuppressed) {
                // Back to the queue: claimed again, it is rendered without that Cc.
                release(job, relay: relay, ledger: ledger)
                continue
            }
            let attempt = job.attempts + 1
            var endOfDataAt: Double?
            let outcome = current.deliver(job.message) {
                // In the log before the final "." leaves: after a crash the message is `unknown`, never sent again.
                guard !ledger.hasFailed else { return false }
                log.awaitingReply(connection: connection, slot: slot, message: job.message.id, attempt: attempt)
                endOfDataAt = clock.now()
                return true
            }
            if endOfDataAt == nil, let reply = outcome.reply, reply.asksForSignIn {
                // Not the message's fault: it goes back to the queue unchanged, and the relay is left out.
                release(job, relay: relay, ledger: ledger)
                session?.close()
                session = nil
                leaveOut(relay, cause: .signInRequired(reply: TerminalText.inert(reply.text)), ledger: ledger)
                continue
            }
            let now = clock.now()
            var decision = AttemptDecision(outcome: outcome, attempts: attempt, firstAttemptAt: job.firstAttemptAt ?? now,
                                           now: now, policy: options.retry, random: random())
            let verdict = note(outcome, decision: decision, relay: relay, domain: job.domain, now: now, ledger: ledger)
            if verdict.reroute, decision.state == .deferred {
                // Deferred only because of its relay: another relay takes it now, not at its retry time.
                decision.nextAttemptAt = now
                state.withLock { $0.handedBack += 1 }
            }
            let reply = outcome.reply
            let result = AttemptResult(message: job.message.id, state: decision.state, at: now, nextAttemptAt: decision.nextAttemptAt,
                                       smtpCode: reply?.code, enhancedStatus: reply?.enhancedStatus, reply: reply?.text ?? outcome.detail,
                                       reason: decision.reason ?? job.message.note, connection: connection, relay: relays[relay].name,
                                       replySeconds: endOfDataAt.map { now - $0 })
            log.finished(connection: connection, slot: slot, attempt: attempt, result: result)
            slotTickets[slot] = ledger.append(.outcome(result))
            slot = (slot + 1) % InFlightLog.slotsPerConnection
            if case .out? = verdict.change {
                // Its next message opens a new connection: this one met the trouble.
                session?.close()
                session = nil
            }
        }
    }

    /// A claimed message goes back to the queue unsent; a probe that never went is sent again.
    private func release(_ job: Job, relay: Int, ledger: DeliveryLedger) {
        ledger.append(.released(message: job.message.id))
        state.withLock {
            $0.inFlight -= 1
            $0.handedBack += 1
            if job.probe { $0.rotation.probeReturned(relay, at: clock.now()) }
        }
    }

    /// A claimed message goes back to the queue unsent (the producer's, never routed).
    private func release(_ message: Int64, ledger: DeliveryLedger) {
        ledger.append(.released(message: message))
        state.withLock {
            $0.inFlight -= 1
            $0.handedBack += 1
        }
    }

    /// Counts the outcome and reacts to what it says about the relay (see `RelayRotation`):
    /// a relay that leaves rotation hands its waiting messages back to the queue for the
    /// others; with every relay left out, the run pauses.
    private func note(_ outcome: DeliveryOutcome, decision: AttemptDecision, relay: Int, domain: String, now: Double,
                      ledger: DeliveryLedger) -> RelayRotation.Verdict {
        let verdict = state.withLock { state in
            state.inFlight -= 1
            switch decision.state {
            case .accepted: state.progress.accepted += 1
            case .deferred: state.progress.deferred += 1
            case .failed: state.progress.failed += 1
            case .unknown: state.progress.unknown += 1
            default: break
            }
            return state.rotation.record(outcome, decision: decision, relay: relay, domain: domain, at: now)
        }
        if let change = verdict.change { record(change, ledger: ledger, at: now) }
        // Several connections may reach the same verdict at once: the one that stops the run says it.
        if let pause = verdict.pause, stop(.paused(pause)) {
            logger.error("\(TerminalText.inert(pause.description)); pausing the campaign")
        }
        return verdict
    }

    /// Relay `relay` is out for the rest of the run; the run pauses if it was the last.
    private func leaveOut(_ relay: Int, cause: PauseCause, ledger: DeliveryLedger) {
        let now = clock.now()
        let (change, pause) = state.withLock { state in (state.rotation.leaveOut(relay, cause: cause, at: now), state.rotation.pauseCause) }
        if let change { record(change, ledger: ledger, at: now) }
        if let pause {
            if stop(.paused(pause)) { logger.error("\(TerminalText.inert(pause.description)); pausing the campaign") }
        } else if change != nil {
            logger.warning("relay \(relays[relay].label) is left out of this run: \(TerminalText.inert(cause.description))")
        }
    }

    /// Records a relay entering or leaving rotation; one leaving hands back what waits in its feed.
    private func record(_ change: RelayRotation.Change, ledger: DeliveryLedger, at now: Double) {
        switch change {
        case .out(let relay, let reason):
            if let name = relays[relay].name { ledger.append(.relayOut(relay: name, reason: reason, at: now)) }
            for job in feeds[relay].drain() { release(job, relay: relay, ledger: ledger) }
        case .back(let relay):
            if let name = relays[relay].name { ledger.append(.relayBack(relay: name, at: now)) }
        }
    }

    /// What the limits say about one message.
    private enum Slot {
        /// It goes now (its slot under every limit is taken).
        case go
        /// Back to the queue: the run stops, its relay left rotation, or its relay's cap is full
        /// (the others may carry it).
        case notNow
        /// Its recipient domain's cap is full for long: it waits, deferred, while other domains go.
        case postponed(until: Double, reason: String)
    }

    /// Waits for a slot under the profile's, the relay's and the recipient domain's limits.
    /// A long wait on the profile's cap (a daily cap) ends the run unless `--follow`; a
    /// domain's postpones that message alone; a relay's own cap rests that relay while
    /// others carry the campaign. One lock a message: the connections share it.
    private func waitForLimits(relay: Int, domain: String, probe: Bool, ledger: DeliveryLedger) -> Slot {
        let domain = options.domainLimits.isEmpty ? "" : domain
        while !stopping {
            let now = clock.now()
            let answer = state.withLock { state -> SendGate.Answer? in
                guard probe || state.rotation.carries(relay) else { return nil }
                return state.gate.ask(relay: relay, domain: domain, now: now)
            }
            switch answer {
            case nil:
                return .notNow
            case .go(let wait)?:
                if wait > 0 { waitUntil(now + wait) }
                return .go
            case .limited(let until, .relay)? where relays.count > 1:
                let reason = "its own limit (\(relays[relay].rates.map(\.description).joined(separator: ", "))) is reached"
                let change = state.withLock { $0.rotation.rest(relay, until: until, reason: reason, cap: true, at: now) }
                if let change { record(change, ledger: ledger, at: now) }
                return .notNow
            case .limited(let until, .domain)? where until - now > 60:
                // Holding a connection for hours would hold every other domain back with it.
                let limits = (options.domainLimits.first { $0.key.lowercased() == domain }?.value ?? []).map(\.description).joined(separator: ", ")
                return .postponed(until: until, reason: "\(domain)'s limit (\(limits)) is reached")
            case .limited(let until, _)?:
                // The profile's cap over hours ends this run (unless --follow): `resume` goes on when it allows.
                if until - now > 60 && !options.follow {
                    stop(.capReached(until: until))
                    return .notNow
                }
                waitUntil(until)
            }
        }
        return .notNow
    }

    /// Sleeps until `time` or until the run stops.
    private func waitUntil(_ time: Double) {
        wake.lock()
        defer { wake.unlock() }
        while !stopping {
            let left = time - clock.now()
            if left <= 0 { return }
            _ = wake.wait(until: Date(timeIntervalSinceNow: min(left, 1)))
        }
    }
}
