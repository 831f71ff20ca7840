import Delivery

/// When a bounce suppresses its recipient.
public struct SuppressionPolicy: Sendable, Equatable {
    /// Hard bounces suppress at once.
    public var hardBounces = true
    /// Complaints suppress at once.
    public var complaints = true
    /// Soft bounces suppress after this many within `softWindow` seconds.
    public var softBounces = 3
    public var softWindow: Double = 30 * 86_400

    public init() {}
}

/// The evidence a bounce is matched to its message by, strongest first: the signed return
/// path it came back to (VERP), the returned original's Message-ID, then the address as
/// sent (a forward's Original-Recipient) and the address that failed. A forged return path
/// believes nothing; the recipient alone only when the operator allows it.
public enum BounceEvidence: Sendable, Equatable {
    case message(Int64)
    case messageID(String)
    case recipient(String)

    public static func inOrder(for bounce: BounceReport, verpMessage: Int64?, byMessageID: Bool, byRecipient: Bool) -> [BounceEvidence] {
        var evidence: [BounceEvidence] = []
        if let verpMessage { evidence.append(.message(verpMessage)) }
        if byMessageID, let id = bounce.messageID, !id.isEmpty { evidence.append(.messageID(id)) }
        if byRecipient { evidence += [bounce.originalRecipient, bounce.recipient].compactMap { $0 }.map(BounceEvidence.recipient) }
        return evidence
    }
}

/// What a matched bounce does: the state its message moves to, and whether its address
/// goes onto the suppression list (and why). Pure: the one count it may need, the
/// recipient's recent soft bounces, is asked for only when the policy needs it.
public struct BounceConsequence: Sendable, Equatable {
    public var newState: MessageState?
    /// (reason, source) of the suppression, when there is one.
    public var suppression: Suppression?

    public struct Suppression: Sendable, Equatable {
        public var reason: String
        public var source: String
    }

    public static func of(_ bounce: BounceReport, policy: SuppressionPolicy, softBouncesInWindow: () throws -> Int) rethrows -> BounceConsequence {
        let newState: MessageState? = switch bounce.kind {
        case .complaint: .complained
        case .failure: .bounced
        case .delay, .autoReply, .delivered: nil
        }
        var suppression: Suppression?
        switch bounce.kind {
        case .complaint where policy.complaints:
            suppression = Suppression(reason: "complaint", source: "complaint")
        case .failure where !bounce.reason.isSenderSide:
            // A refusal of the sender (reputation, policy, authentication) is never the recipient's fault.
            if bounce.hard {
                if policy.hardBounces { suppression = Suppression(reason: "hard bounce: \(bounce.reason.rawValue)", source: "bounce") }
            } else {
                let soft = try softBouncesInWindow()
                if soft >= policy.softBounces {
                    suppression = Suppression(reason: "\(soft) soft bounces in \(Int(policy.softWindow / 86_400)) days", source: "bounce")
                }
            }
        default:
            break
        }
        return BounceConsequence(newState: newState, suppression: suppression)
    }

    /// The reasons a soft bounce counts toward suppression with: not the sender's own
    /// refusals, and not complaints, auto-replies or delivery notices.
    public static let reasonsNotCounted: [String] = FailureReason.allCases.filter(\.isSenderSide).map(\.rawValue) + ["feedback", "vacation", "delivered"]
}
