@testable import Bounces
import Delivery
import Testing

/// The rules a recorded bounce follows, without a database: what it is matched by, in
/// which order, and what it does to its message and its address.
@Suite("What a bounce does")
struct BounceConsequenceTests {
    static func bounce(_ kind: BounceReport.Kind, reason: FailureReason, hard: Bool, messageID: String? = "m1@example.com",
                       recipient: String? = "a@example.com", original: String? = nil) -> BounceReport {
        var report = BounceReport(kind: kind, recipient: recipient, action: nil, status: nil, replyCode: nil, reason: reason, hard: hard, diagnostic: nil)
        report.messageID = messageID
        report.originalRecipient = original
        return report
    }

    @Test func evidenceGoesFromTheSignedReturnPathToTheRecipient() {
        let report = Self.bounce(.failure, reason: .userUnknown, hard: true, original: "alias@example.org")
        #expect(BounceEvidence.inOrder(for: report, verpMessage: 7, byMessageID: true, byRecipient: true)
                == [.message(7), .messageID("m1@example.com"), .recipient("alias@example.org"), .recipient("a@example.com")])
        // A forged return path: nothing it names is believed; the recipient alone only when allowed.
        #expect(BounceEvidence.inOrder(for: report, verpMessage: nil, byMessageID: false, byRecipient: false).isEmpty)
        #expect(BounceEvidence.inOrder(for: report, verpMessage: nil, byMessageID: true, byRecipient: false) == [.messageID("m1@example.com")])
    }

    @Test func aHardBounceSuppressesAtOnceUnlessThePolicySaysNo() throws {
        var asked = 0
        let report = Self.bounce(.failure, reason: .userUnknown, hard: true)
        let consequence = BounceConsequence.of(report, policy: SuppressionPolicy()) { asked += 1; return 0 }
        #expect(consequence == BounceConsequence(newState: .bounced, suppression: .init(reason: "hard bounce: userunknown", source: "bounce")))
        #expect(asked == 0, "the soft-bounce count is not asked for a hard bounce")
        var off = SuppressionPolicy()
        off.hardBounces = false
        #expect(BounceConsequence.of(report, policy: off) { 0 }.suppression == nil)
    }

    @Test func softBouncesSuppressOnlyAtTheThreshold() {
        let report = Self.bounce(.failure, reason: .mailboxFull, hard: false)
        #expect(BounceConsequence.of(report, policy: SuppressionPolicy()) { 2 }.suppression == nil)
        #expect(BounceConsequence.of(report, policy: SuppressionPolicy()) { 3 }.suppression?.reason == "3 soft bounces in 30 days")
    }

    @Test func theSendersOwnRefusalsNeverSuppressTheRecipient() {
        for reason in FailureReason.allCases where reason.isSenderSide {
            let consequence = BounceConsequence.of(Self.bounce(.failure, reason: reason, hard: true), policy: SuppressionPolicy()) { 99 }
            #expect(consequence.suppression == nil, "\(reason)")
            #expect(consequence.newState == .bounced)
        }
        #expect(BounceConsequence.reasonsNotCounted.contains("blocked") && BounceConsequence.reasonsNotCounted.contains("feedback"))
    }

    @Test func complaintsFollowThePolicyAndDelaysChangeNothing() {
        #expect(BounceConsequence.of(Self.bounce(.complaint, reason: .feedback, hard: false), policy: SuppressionPolicy()) { 0 }
                == BounceConsequence(newState: .complained, suppression: .init(reason: "complaint", source: "complaint")))
        var off = SuppressionPolicy()
        off.complaints = false
        #expect(BounceConsequence.of(Self.bounce(.complaint, reason: .feedback, hard: false), policy: off) { 0 }.suppression == nil)
        #expect(BounceConsequence.of(Self.bounce(.delay, reason: .mailboxFull, hard: false), policy: SuppressionPolicy()) { 9 }
                == BounceConsequence(newState: nil, suppression: nil))
    }
}
