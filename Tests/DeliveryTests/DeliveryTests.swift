import Testing
@testable import Delivery

@Suite("Message state machine")
struct MessageStateTests {
    @Test func followsTheBriefsTransitions() {
        #expect(MessageState.queued.canMove(to: .claimed))
        #expect(MessageState.claimed.canMove(to: .accepted))
        #expect(MessageState.claimed.canMove(to: .unknown))
        #expect(MessageState.claimed.canMove(to: .queued))
        #expect(MessageState.deferred.canMove(to: .queued))
        #expect(MessageState.accepted.canMove(to: .bounced))
        // What earlier versions left in the database is still recovered.
        #expect(MessageState.awaitingReply.canMove(to: .accepted))
        #expect(MessageState.awaitingReply.canMove(to: .unknown))
    }

    @Test func aResultLandsOnlyOnAMessageBeingSent() {
        for result in [MessageState.accepted, .deferred, .unknown] {
            for state in MessageState.allCases {
                #expect(state.canMove(to: result) == MessageState.beingSent.contains(state), "\(state) → \(result)")
            }
        }
        #expect(!MessageState.claimed.canMove(to: .awaitingReply), "awaiting a reply is a state of the in-flight log, never written to the database")
    }

    @Test func neverSendsAnAcceptedMessageAgain() {
        #expect(!MessageState.accepted.canMove(to: .queued))
        #expect(!MessageState.accepted.canMove(to: .claimed))
        #expect(!MessageState.bounced.canMove(to: .queued))
    }
}

@Suite("SMTP replies")
struct SMTPReplyTests {
    @Test func readsCodeEnhancedStatusAndText() throws {
        let reply = try #require(SMTPReply(lines: ["550 5.1.1 <x@y.com>: user unknown\r\n"]))
        #expect(reply.code == 550)
        #expect(reply.enhancedStatus == "5.1.1")
        #expect(reply.text == "550 5.1.1 <x@y.com>: user unknown")
        #expect(reply.isPermanent)
    }

    @Test func joinsMultilineReplies() throws {
        let reply = try #require(SMTPReply(lines: ["451-4.7.1 Greylisted,", "451 4.7.1 try again in 5 minutes"]))
        #expect(reply.code == 451)
        #expect(reply.enhancedStatus == "4.7.1")
        #expect(reply.text == "451-4.7.1 Greylisted, 451 4.7.1 try again in 5 minutes")
    }

    @Test func ignoresAStatusWhoseClassDisagrees() throws {
        #expect(try #require(SMTPReply(lines: ["250 5.1.1 odd"])).enhancedStatus == nil)
        #expect(try #require(SMTPReply(lines: ["250 Ok"])).enhancedStatus == nil)
        #expect(SMTPReply(lines: ["hello"]) == nil)
    }
}

@Suite("Retries")
struct RetryTests {
    @Test func doublesFromFiveMinutesToTwoHours() {
        let policy = RetryPolicy(jitter: 0)
        #expect((1...7).map { policy.delay(afterAttempts: $0, random: 0.5) } == [300, 600, 1200, 2400, 4800, 7200, 7200])
    }

    @Test func spreadsDelaysByTheJitter() {
        let policy = RetryPolicy(firstDelay: 100, jitter: 0.2)
        #expect(policy.delay(afterAttempts: 1, random: 0) == 80)
        #expect(policy.delay(afterAttempts: 1, random: 1) == 120)
    }

    @Test func givesUpAfterThreeDaysAsExpired() {
        let policy = RetryPolicy()
        let reply = SMTPReply(code: 451, enhancedStatus: "4.3.0", text: "451 4.3.0 later")
        let early = AttemptDecision(outcome: .deferred(reply, detail: ""), attempts: 2, firstAttemptAt: 0, now: 1000, policy: policy, random: 0.5)
        #expect(early.state == .deferred)
        #expect(early.nextAttemptAt == 1600)
        let late = AttemptDecision(outcome: .deferred(reply, detail: ""), attempts: 40, firstAttemptAt: 0, now: 259_200, policy: policy, random: 0.5)
        #expect(late.state == .failed)
        #expect(late.reason == "expired")
    }

    @Test func mapsRepliesToOutcomes() {
        #expect(DeliveryOutcome(finalReply: SMTPReply(code: 250, text: "250 ok")).state == .accepted)
        #expect(DeliveryOutcome(finalReply: SMTPReply(code: 421, text: "421 busy")).state == .deferred)
        #expect(DeliveryOutcome(finalReply: SMTPReply(code: 554, text: "554 no")).state == .failed)
    }
}

@Suite("Rate limits")
struct RateLimitTests {
    @Test func parsesRates() {
        #expect(RateLimit(parsing: "10/s") == RateLimit(count: 10, period: 1))
        #expect(RateLimit(parsing: "600/min") == RateLimit(count: 600, period: 60))
        #expect(RateLimit(parsing: "2000/day") == RateLimit(count: 2000, period: 86_400))
        #expect(RateLimit(parsing: "fast") == nil)
        #expect(RateLimit(parsing: "0/s") == nil)
    }

    @Test func spacesMessagesEvenlyAtTheRate() {
        var limiter = GCRA(RateLimit(count: 10, period: 1))
        let waits = (0..<5).map { _ in limiter.reserve(now: 100) }
        #expect(waits.map { ($0 * 1000).rounded() } == [0, 100, 200, 300, 400])
    }

    @Test func allowsTheBurstAtOnceAfterAQuietSpell() {
        var limiter = GCRA(RateLimit(count: 10, period: 1, burst: 3))
        let waits = (0..<4).map { _ in limiter.reserve(now: 50) }
        #expect(waits.map { ($0 * 1000).rounded() } == [0, 0, 0, 100])
        // Over any window, no more than rate × window + burst.
        var strict = GCRA(RateLimit(count: 200, period: 1, burst: 5))
        var sent: [Double] = []
        var clock = 0.0
        for _ in 0..<2000 {
            clock += strict.reserve(now: clock)
            sent.append(clock)
        }
        for start in stride(from: 0.0, to: 9.0, by: 0.25) {
            #expect(sent.filter { $0 >= start && $0 < start + 1 }.count <= 205)
        }
    }
}

@Suite("Failure classification")
struct FailureClassifierTests {
    @Test(arguments: [
        ("5.1.1", 550, "550 5.1.1 <x@y>: Recipient address rejected: User unknown", FailureReason.userUnknown),
        ("5.2.2", 552, "552 5.2.2 Mailbox full", .mailboxFull),
        ("4.7.28", 421, "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail", .speeding),
        ("5.7.26", 550, "550-5.7.26 This mail is unauthenticated", .authFailure),
        ("5.7.1", 550, "550 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using Spamhaus", .blocked),
        (nil, 550, "550 5.7.515 Access denied, sending domain does not meet the required authentication level", .authFailure),
        (nil, 554, "554 DT:SPM 163 mx14, the message was considered spam", .spamDetected),
        (nil, 451, "451 MI:SFQ Sender frequency quota exceeded", .speeding),
        (nil, 550, "550 RP-001 (BAY004-MC1F16) Unfortunately, some messages from 1.2.3.4 weren't sent", .badReputation),
        (nil, 421, "421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred", .badReputation),
        ("5.1.2", 550, "550 5.1.2 Host unknown", .hostUnknown),
        ("5.7.1", 554, "554 5.7.1 <x@y>: Relay access denied", .noRelaying),
    ] as [(String?, Int, String, FailureReason)])
    func classifiesRepliesByStatusThenText(status: String?, code: Int, text: String, expected: FailureReason) {
        #expect(FailureClassifier.classify(status: status, code: code, text: text) == expected)
    }

    @Test func senderSideRefusalsNeverFailTheRecipient() {
        let reply = SMTPReply(code: 550, enhancedStatus: "5.7.1", text: "550 5.7.1 Sender address rejected: Access denied by policy")
        let decision = AttemptDecision(outcome: .failed(reply, detail: ""), attempts: 1, firstAttemptAt: 0, now: 10, policy: RetryPolicy(), random: 0.5)
        #expect(decision.state == .deferred)
        #expect(decision.isSenderSide)
        let unknown = SMTPReply(code: 550, enhancedStatus: "5.1.1", text: "550 5.1.1 user unknown")
        let hard = AttemptDecision(outcome: .failed(unknown, detail: ""), attempts: 1, firstAttemptAt: 0, now: 10, policy: RetryPolicy(), random: 0.5)
        #expect(hard.state == .failed)
        #expect(hard.reason == "userunknown")
        #expect(!hard.isSenderSide)
    }

    @Test func a421IsThrottling() {
        let reply = SMTPReply(code: 421, enhancedStatus: "4.7.0", text: "421 4.7.0 Too many messages, slow down")
        let decision = AttemptDecision(outcome: .deferred(reply, detail: ""), attempts: 1, firstAttemptAt: 0, now: 10, policy: RetryPolicy(), random: 0.5)
        #expect(decision.state == .deferred)
        #expect(decision.isThrottling)
        #expect(decision.reason == "speeding")
    }
}

@Suite("Rolling windows")
struct RollingWindowTests {
    @Test func allowsTheLimitInAnyWindowAndSaysWhenThereIsRoomAgain() {
        var window = RollingWindow(RateLimit(count: 3, period: 100), history: [10, 20])
        #expect(window.nextSlot(now: 30) == 30)
        window.record(30)
        #expect(window.nextSlot(now: 40) == 110, "full until the send at 10 leaves the window")
        #expect(window.nextSlot(now: 111) == 111)
    }

    @Test func longWindowsAreCountedShortOnesSmoothed() {
        var limits = RateLimits([RateLimit(count: 10, period: 1), RateLimit(count: 2, period: 86_400)], history: [])
        #expect(limits.nextRollingSlot(now: 0) == 0)
        #expect(limits.take(now: 0) == 0)
        #expect(limits.take(now: 0) == 0.1)
        #expect(limits.nextRollingSlot(now: 1) == 86_400)
    }
}
