import Addresses
import ArgumentParser
import Broadside
import Delivery
import Engine
import Foundation
import Store

/// `send --test ADDRESS [--row N]`: the message of one row, rendered exactly as the
/// campaign renders it (the campaign's frozen fields and files when it exists), delivered
/// to ADDRESS alone (never to the row's recipient or Cc), and recorded nowhere.
struct SendTest {
    var address: String
    var row: Int
    var plan: CampaignSetup.Plan
    var extras: MessageExtras
    var transport: any MessageTransport
    var store: Store
    var json: Bool

    func run() throws {
        let testAddress: EmailAddress
        do {
            testAddress = try EmailAddress(parsing: address)
        } catch {
            throw BroadsideError.input("--test \(address): \(error)")
        }
        let (recipient, fields) = try recipientOfRow()
        let (renderer, pdfs) = try PersonalMessage(template: plan.template, extras: extras, files: try plan.files(in: store))
            .makingPDFs(for: [(0, fields)])
        defer { pdfs?.discard() }
        var message: OutgoingMessage
        do {
            let sender = try renderer.sender(for: fields)
            message = try renderer.outgoing(id: 0, campaign: plan.existing?.id ?? 0, fields: fields, recipient: recipient,
                                            messageID: "test.\(UUID().uuidString.lowercased())@\(sender.address.asciiDomain)",
                                            returnPath: sender.address.smtpForm, date: Int64(Date().timeIntervalSince1970))
        } catch {
            throw BroadsideError.input("row \(row) (\(recipient)): \(error)")
        }
        message.envelope = Envelope(returnPath: message.envelope.returnPath, recipient: testAddress.smtpForm)
        let session = try transport.makeSession(number: 1)
        let outcome = session.deliver(message) { true }
        session.close()
        if json {
            struct Result: Encodable { var row: Int; var recipient: String; var sent_to: String; var state: String; var reply: String }
            try Output.json(Result(row: row, recipient: recipient, sent_to: testAddress.smtpForm, state: outcome.state.rawValue, reply: outcome.detail))
        } else {
            Output.line("Row \(row) (\(recipient)) sent to \(testAddress.smtpForm): \(outcome.state.rawValue) — \(TerminalText.inert(outcome.detail))")
        }
        switch outcome {
        case .accepted: return
        case .failed: throw ExitCode(ExitStatus.workFailed)
        case .deferred, .unknown: throw ExitCode(ExitStatus.badEnvironment)
        }
    }

    /// The row's recipient and fields: the campaign's frozen ones, or the list's.
    private func recipientOfRow() throws -> (String, [String: String]) {
        if let campaign = plan.existing {
            guard let frozen = try store.frozenRecipient(campaignID: campaign.id, row: row) else {
                throw BroadsideError.input("campaign '\(campaign.name)' has no row \(row)")
            }
            return (frozen.recipient, frozen.fields)
        }
        guard let listName = plan.listName else { throw BroadsideError.input("no list to take row \(row) from") }
        var found: ListMember?
        var seen = 0
        try store.forEachMember(of: listName, limit: row) { member in
            seen += 1
            if seen == row { found = member }
        }
        guard let found else { throw BroadsideError.input("list '\(listName)' has no row \(row) (it has \(seen))") }
        return (found.smtpAddress, found.fields)
    }
}
