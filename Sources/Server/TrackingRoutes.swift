import Engagement
import Foundation
import HTTPTypes
import Hummingbird
import Store

/// `/c/TOKEN` (a tracked link) and `/o/TOKEN.gif` (the open image): the request is
/// classified (a person or a machine, `VisitorRule`), recorded, and answered at once.
/// A token that does not verify, or names a link the message does not have, is a 404 that
/// records nothing.
extension UnsubscribeServer {
    func click(token: String, request: Request) async -> Response {
        guard let (campaign, message, link) = tracking.decodeClick(token),
              let found = await links.message(message, campaign: campaign), let target = found.destination(link),
              let destination = URL(string: target) else {
            return Self.page(status: .notFound, title: "Not found", body: "")
        }
        let now = Date().timeIntervalSince1970
        let visit = Visit(kind: .click, method: request.method.rawValue, userAgent: request.headers[.userAgent] ?? "",
                          sinceAccepted: found.acceptedAt.map { now - $0 },
                          sinceOtherLink: links.sinceOtherLink(message: message, link: link, at: now))
        record(visit, campaign: campaign, message: message, link: link, at: now)
        var headers = HTTPFields()
        headers[.location] = destination.absoluteString
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .found, headers: headers)
    }

    func open(image: String, request: Request) async -> Response {
        guard image.hasSuffix(".gif"), let (campaign, message) = tracking.decodeOpen(String(image.dropLast(4))),
              let found = await links.message(message, campaign: campaign) else {
            return Self.page(status: .notFound, title: "Not found", body: "")
        }
        let now = Date().timeIntervalSince1970
        let visit = Visit(kind: .open, method: request.method.rawValue, userAgent: request.headers[.userAgent] ?? "",
                          sinceAccepted: found.acceptedAt.map { now - $0 })
        record(visit, campaign: campaign, message: message, link: nil, at: now)
        var headers = HTTPFields()
        headers[.contentType] = "image/gif"
        headers[.cacheControl] = "no-store, private"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.pixel)))
    }

    private func record(_ visit: Visit, campaign: Int64, message: Int64, link: Int?, at now: Double) {
        let visitor = VisitorRule.classify(visit)
        visits.record(TrackingVisit(campaignID: campaign, message: message, kind: visit.kind == .click ? .click : .open, link: link,
                                    at: now, machine: visitor.isMachine, agent: visitor.label))
    }

    /// A transparent 1×1 GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]
}
