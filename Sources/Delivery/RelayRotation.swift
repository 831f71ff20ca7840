/// Which relay carries the next message, and which relays are out of rotation and why.
/// Pure (the caller brings the time, no lock, no thread), so that every rule is driven by a
/// test: messages go to the relays in rotation in proportion to their weights (smooth
/// weighted round robin: the shares are exact over any stretch, never in bursts); a relay
/// whose answers say it is in trouble (`RelayHealth`) rests out of rotation and, when its
/// rest is over, gets one message as a probe: that message's fate brings it back or sends
/// it to rest again, longer. A relay that refuses the sign-in, whose sending IP is refused,
/// that gives no verdicts or stays lost too long is left out for the rest of the run. The
/// campaign pauses only when every relay is left out.
public struct RelayRotation: Sendable {
    public struct Relay: Sendable, Equatable {
        public var name: String
        public var weight: Int
        /// Recipient domains kept for this relay (lowercased): their mail goes only through
        /// relays that name them, and a relay that names any carries no other mail.
        public var domains: Set<String>

        public init(name: String, weight: Int = 1, domains: Set<String> = []) {
            self.name = name
            self.weight = max(1, weight)
            self.domains = Set(domains.map { $0.lowercased() })
        }
    }

    public enum Standing: Sendable, Equatable {
        case inRotation
        /// Out of rotation until then; then probed with one message.
        case resting(until: Double, reason: String)
        /// Its probe is on its way: the probe's outcome decides.
        case probing
        /// Out for the rest of the run.
        case leftOut(PauseCause)

        public var isOut: Bool { self != .inRotation }
    }

    /// Where the next message of a domain goes.
    public enum Pick: Sendable, Equatable {
        /// To this relay; `probe`: it is the message that finds out whether the relay is back.
        case relay(Int, probe: Bool)
        /// No relay for it is in rotation now; ask again then (the soonest rest's end).
        /// `capped`: every one of them rests because its own cap is full (hours, perhaps).
        case wait(until: Double, capped: Bool)
        /// Every relay that could carry it is left out for the run.
        case noneLeft
    }

    /// A relay entering or leaving rotation, for the record (the report's time out of rotation).
    public enum Change: Sendable, Equatable {
        case out(relay: Int, reason: String)
        case back(relay: Int)
    }

    /// What an outcome means beyond its message.
    public struct Verdict: Sendable, Equatable {
        /// The relay left rotation with this outcome: its waiting messages go back to the queue.
        public var change: Change?
        /// The message's deferral was its relay's fault and another relay can carry it: it is
        /// due again at once rather than at its retry time.
        public var reroute = false
        /// Every relay is left out: the campaign pauses.
        public var pause: PauseCause?
    }

    public let relays: [Relay]
    public private(set) var standings: [Standing]
    private var health: [RelayHealth]
    /// Smooth weighted round robin's running weight of each relay (as nginx keeps one a peer).
    private var current: [Int]
    /// The relays for mail to any domain not kept for some, and those kept for each domain
    /// (worked out once: a pick happens for every message).
    private let general: [Int]
    private let kept: [String: [Int]]
    private var outSince: [Double?]
    private var timeOut: [Double]
    /// The relay rests because its own cap (an hourly or daily limit) is full.
    private var restsForCap: [Bool]

    public init(relays: [Relay], health: RelayHealth.Settings) {
        self.relays = relays
        self.standings = Array(repeating: .inRotation, count: relays.count)
        self.health = Array(repeating: RelayHealth(settings: health), count: relays.count)
        self.outSince = Array(repeating: nil, count: relays.count)
        self.timeOut = Array(repeating: 0, count: relays.count)
        self.restsForCap = Array(repeating: false, count: relays.count)
        self.current = Array(repeating: 0, count: relays.count)
        self.general = relays.indices.filter { relays[$0].domains.isEmpty }
        var kept: [String: [Int]] = [:]
        for index in relays.indices {
            for domain in relays[index].domains { kept[domain, default: []].append(index) }
        }
        self.kept = kept
    }

    /// The relays that may carry mail to `domain` (lowercased): those naming it, else those naming none.
    public func candidates(domain: String) -> [Int] {
        kept.isEmpty ? general : kept[domain] ?? general
    }

    public mutating func pick(domain: String, now: Double) -> Pick {
        let candidates = candidates(domain: domain)
        // A rest that is over: one message probes the relay before it carries more.
        for index in candidates {
            if case .resting(let until, _) = standings[index], until <= now {
                standings[index] = .probing
                return .relay(index, probe: true)
            }
        }
        if let next = nextByWeight(among: candidates) { return .relay(next, probe: false) }
        var soonest: Double?
        var capped = true
        for index in candidates {
            switch standings[index] {
            case .resting(let until, _):
                soonest = min(soonest ?? until, until)
                capped = capped && restsForCap[index]
            case .probing:
                soonest = min(soonest ?? now + 0.05, now + 0.05)   // its probe's outcome is near
                capped = false
            case .inRotation, .leftOut: break
            }
        }
        return soonest.map { .wait(until: $0, capped: capped) } ?? .noneLeft
    }

    /// Smooth weighted round robin (as nginx balances upstreams): each relay in rotation gains
    /// its weight, the one with most goes and gives back the total; nil when none is in rotation.
    private mutating func nextByWeight(among candidates: [Int]) -> Int? {
        var best: Int?
        var total = 0
        for index in candidates where standings[index] == .inRotation {
            current[index] += relays[index].weight
            total += relays[index].weight
            if best.map({ current[index] > current[$0] }) ?? true { best = index }
        }
        if let best { current[best] -= total }
        return best
    }

    /// An attempt's outcome through relay `index`, for a recipient at `domain`.
    public mutating func record(_ outcome: DeliveryOutcome, decision: AttemptDecision, relay index: Int, domain: String,
                                at now: Double) -> Verdict {
        let said = health[index].record(outcome, decision: decision, at: now)
        let relayAtFault = said.reconnectIn != nil || decision.isThrottling || decision.isSenderSide
        var verdict = Verdict()
        if let cause = said.pause {
            verdict.change = leaveOut(index, cause: cause, at: now)
        } else if let wait = said.reconnectIn {
            verdict.change = rest(index, until: now + wait, reason: "not reached: \(outcome.detail)", at: now)
        } else if decision.isThrottling {
            verdict.change = rest(index, until: health[index].coolUntil, reason: "asked to slow down: \(outcome.reply?.text ?? outcome.detail)", at: now)
        } else if standings[index] == .probing && relayAtFault {
            // Its probe's sender was refused (its IP's reputation): not back yet; probed again later.
            rest(index, until: now + health[index].settings.throttleCooldown,
                 reason: "the sender was refused: \(outcome.reply?.text ?? outcome.detail)", at: now)
        } else if standings[index] == .probing {
            standings[index] = .inRotation
            if let since = outSince[index] { timeOut[index] += now - since }
            outSince[index] = nil
            verdict.change = .back(relay: index)
        }
        if relayAtFault {
            verdict.reroute = candidates(domain: domain).contains { $0 != index && (standings[$0] == .inRotation || standings[$0] == .probing) }
        }
        verdict.pause = pauseCause
        return verdict
    }

    /// Takes relay `index` out for the rest of the run (its sign-in refused, no connection possible).
    @discardableResult
    public mutating func leaveOut(_ index: Int, cause: PauseCause, at now: Double) -> Change? {
        if case .leftOut = standings[index] { return nil }
        let wasIn = !standings[index].isOut
        standings[index] = .leftOut(cause)
        if outSince[index] == nil { outSince[index] = now }
        return wasIn ? .out(relay: index, reason: cause.description) : nil
    }

    /// Takes relay `index` out of rotation until `until` (a later rest never shortens an
    /// earlier one); `cap`: because its own cap is full.
    @discardableResult
    public mutating func rest(_ index: Int, until: Double, reason: String, cap: Bool = false, at now: Double) -> Change? {
        if case .resting(let current, _) = standings[index], current >= until { return nil }
        if case .leftOut = standings[index] { return nil }
        restsForCap[index] = cap
        switch standings[index] {
        case .leftOut: return nil
        case .resting(let current, _) where current >= until: return nil
        case .resting: standings[index] = .resting(until: until, reason: reason); return nil
        case .inRotation, .probing:
            let wasIn = standings[index] == .inRotation
            standings[index] = .resting(until: until, reason: reason)
            if outSince[index] == nil { outSince[index] = now }
            return wasIn ? .out(relay: index, reason: reason) : nil
        }
    }

    /// A probe that never went (the run stopped, the message was suppressed): the relay is
    /// probed again with the next message.
    public mutating func probeReturned(_ index: Int, at now: Double) {
        if standings[index] == .probing { standings[index] = .resting(until: now, reason: "probe not sent") }
    }

    /// Why relay `index` is out of rotation now; nil while it is in.
    public func whyOut(_ index: Int) -> String? {
        switch standings[index] {
        case .inRotation: return nil
        case .resting(_, let reason): return reason
        case .probing: return "being probed"
        case .leftOut(let cause): return cause.description
        }
    }

    /// Whether relay `index` takes ordinary messages now (a resting or probing relay takes only its probe).
    public func carries(_ index: Int) -> Bool { standings[index] == .inRotation }

    /// Seconds relay `index` has spent out of rotation in this run, up to `now`.
    public func secondsOut(_ index: Int, now: Double) -> Double {
        timeOut[index] + (outSince[index].map { now - $0 } ?? 0)
    }

    /// Why the campaign pauses: set once every relay is left out, with each one's reason.
    public var pauseCause: PauseCause? {
        var causes: [(relay: String, cause: PauseCause)] = []
        for (index, standing) in standings.enumerated() {
            guard case .leftOut(let cause) = standing else { return nil }
            causes.append((relays[index].name, cause))
        }
        if causes.count == 1 { return causes[0].cause }
        return .noRelayLeft(causes.map { "\($0.relay): \($0.cause.description)" })
    }
}
