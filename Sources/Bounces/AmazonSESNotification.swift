import Delivery
import Foundation

/// Amazon SES notifications (SNS JSON): Bounce, Complaint and Delivery.
enum AmazonSESNotification {
    static func reports(in message: MailMessage) -> [BounceReport]? {
        // Long JSON lines come folded by relays, some with a "!" at the fold.
        guard let folded = message.allParts.first(where: { $0.body.contains("\"notificationType\"") })?.body,
              case let body = folded.replacing("!\r\n ", with: "").replacing("!\n ", with: "").replacing("\r\n", with: "").replacing("\n", with: ""),
              let start = body.firstIndex(of: "{"), let end = body.lastIndex(of: "}"),
              let object = try? JSONSerialization.jsonObject(with: Data(body[start...end].utf8)) as? [String: Any],
              let type = object["notificationType"] as? String else { return nil }
        switch type {
        case "Complaint":
            let recipients = ((object["complaint"] as? [String: Any])?["complainedRecipients"] as? [[String: Any]]) ?? []
            return recipients.map {
                BounceReport(kind: .complaint, recipient: ($0["emailAddress"] as? String)?.lowercased(), action: nil, status: nil, replyCode: nil,
                             reason: .feedback, hard: false, diagnostic: (object["complaint"] as? [String: Any])?["complaintFeedbackType"] as? String)
            }
        case "Delivery":
            let delivery = object["delivery"] as? [String: Any]
            let recipients = (delivery?["recipients"] as? [String]) ?? []
            return recipients.map {
                BounceReport(kind: .delivered, recipient: $0.lowercased(), action: "delivered", status: "2.6.0", replyCode: 250,
                             reason: .delivered, hard: false, diagnostic: delivery?["smtpResponse"] as? String)
            }
        case "Bounce":
            let bounce = object["bounce"] as? [String: Any]
            let recipients = (bounce?["bouncedRecipients"] as? [[String: Any]]) ?? []
            return recipients.map { recipient in
                let diagnostic = recipient["diagnosticCode"] as? String ?? ""
                return BounceParser.report(recipient: (recipient["emailAddress"] as? String)?.lowercased(), action: "failed",
                                           status: (recipient["status"] as? String).flatMap(StatusCode.find), code: ReplyCode.find(in: diagnostic),
                                           diagnostic: diagnostic, context: diagnostic)
            }
        default:
            return nil
        }
    }
}
