import Testing
@testable import Delivery

@Suite("Message state machine")
struct MessageStateTests {
    @Test func followsTheBriefsTransitions() {
        #expect(MessageState.queued.canMove(to: .claimed))
        #expect(MessageState.claimed.canMove(to: .awaitingReply))
        #expect(MessageState.awaitingReply.canMove(to: .accepted))
        #expect(MessageState.awaitingReply.canMove(to: .unknown))
        #expect(MessageState.claimed.canMove(to: .queued))
        #expect(MessageState.deferred.canMove(to: .queued))
        #expect(MessageState.accepted.canMove(to: .bounced))
    }

    @Test func neverAcceptsWithoutAwaitingAReply() {
        #expect(!MessageState.claimed.canMove(to: .accepted))
        #expect(!MessageState.queued.canMove(to: .accepted))
        #expect(!MessageState.claimed.canMove(to: .unknown))
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
