import Delivery
import Engine
import Store

/// The campaign's side of sending: each claimed message rendered from the campaign's frozen
/// template, fields and files; its PDF attachments made a batch at a time; its copy for the
/// Sent folder kept before it goes.
public struct RenderedMessages: CampaignMessages {
    let renderer: PersonalMessage
    let store: Store
    /// `--save-sent`: each message's bytes are kept here before they go, for its Sent copy.
    let spool: SentSpool?

    public init(renderer: PersonalMessage, store: Store, spool: SentSpool? = nil) {
        self.renderer = renderer
        self.store = store
        self.spool = spool
    }

    /// With PDFs to make, 32 documents for each LibreOffice process.
    public var batchLimit: Int? {
        guard case .prepared(let prepared) = renderer.pdfs, renderer.attachesPDFs else { return nil }
        return 32 * prepared.processes
    }

    /// Makes the batch's PDF attachments (none unless the template asks for PDFs); the
    /// messages whose PDF could not be made, with why.
    public func prepare(_ batch: [ClaimedMessage]) -> [Int64: String] {
        guard case .prepared(let prepared) = renderer.pdfs, renderer.attachesPDFs else { return [:] }
        var documents: [(message: Int64, attachment: Int, docx: [UInt8])] = []
        for message in batch {
            // A message that cannot be rendered fails when it is rendered, with its reason.
            guard let made = try? renderer.documentsForPDF(fields: message.fields) else { continue }
            documents += made.map { (message.id, $0.attachment, $0.docx) }
        }
        return prepared.make(documents)
    }

    public func message(for claimed: ClaimedMessage, campaign: Int64, returnPath: String, date: Int64) throws -> OutgoingMessage {
        let outgoing = try renderer.outgoing(id: claimed.id, campaign: campaign, fields: claimed.fields, recipient: claimed.recipient,
                                             messageID: claimed.messageID, returnPath: returnPath, date: date) { copy in
            // Only messages with a Cc ask: a suppressed Cc is never mailed.
            (try? store.isSuppressed(copy.normalized)) ?? false
        }
        if let spool {
            do {
                try spool.keep(outgoing)
            } catch {
                throw SentCopyNotKept("\(error)")
            }
        }
        return outgoing
    }

    /// Removes the PDFs of messages that are done with them (accepted, failed, skipped …);
    /// those of unknown messages stay for `retry --unknown`, which then attaches the same file.
    public func runEnded() {
        guard case .prepared(let prepared) = renderer.pdfs else { return }
        let states = (try? store.states(of: Array(prepared.messages()))) ?? [:]
        for (message, state) in states where state.isFinal && state != .unknown { prepared.remove(message: message) }
        prepared.removeIfEmpty()
    }
}
