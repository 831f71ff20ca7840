import Delivery
import Foundation

/// `--dry-run`: writes each message as an `.eml` file in a folder instead of sending
/// it, and records the outcome as the SMTP transport would.
public struct OutboxTransport: MessageTransport {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func verify() throws(TransportError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TransportError("cannot create the outbox folder \(directory.path): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory.path) else {
            throw TransportError("the outbox folder \(directory.path) is not writable")
        }
    }

    public func makeSession(number: Int) throws(TransportError) -> any TransportSession {
        OutboxSession(directory: directory)
    }
}

final class OutboxSession: TransportSession {
    let directory: URL

    init(directory: URL) {
        self.directory = directory
    }

    func deliver(_ message: OutgoingMessage, beforeEndOfData: () -> Bool) -> DeliveryOutcome {
        let name = String(message.messageID.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }) + ".eml"
        let file = directory.appendingPathComponent(name)
        guard beforeEndOfData() else { return .deferred(nil, detail: "not written: the campaign stopped") }
        do {
            // Written whole or not at all: a reader never sees half a message.
            try Data(message.data).write(to: file, options: .atomic)
        } catch {
            return .deferred(nil, detail: "cannot write \(file.path): \(error.localizedDescription)")
        }
        return .accepted(SMTPReply(code: 250, enhancedStatus: "2.0.0", text: "250 2.0.0 written to \(file.path)"))
    }

    func close() {}
}
