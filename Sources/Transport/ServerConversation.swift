import CCurl
import CurlShim
import Delivery

/// What the server said during one transfer, read from curl's debug callback: every
/// reply with the command it answered. Secrets never enter it: of each command only
/// the verb is kept (an AUTH line carries credentials).
final class ServerConversation {
    struct Exchange {
        var command: String
        var reply: SMTPReply
    }

    private(set) var exchanges: [Exchange] = []
    private var pendingLines: [String] = []
    private var lastCommand = "CONNECT"

    func reset() {
        exchanges.removeAll(keepingCapacity: true)
        pendingLines.removeAll(keepingCapacity: true)
        lastCommand = "CONNECT"
    }

    /// The last reply that says something about the message: curl ends a failed
    /// transaction with QUIT, and `221 Bye` is not the verdict.
    var lastReply: SMTPReply? { exchanges.last { $0.command != "QUIT" }?.reply }

    /// Replies received so far, QUIT's left out.
    var verdictCount: Int { exchanges.count { $0.command != "QUIT" } }

    func received(_ bytes: UnsafeBufferPointer<UInt8>) {
        for line in bytes.split(separator: 0x0A) {
            var text = String(decoding: line, as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            guard !text.isEmpty else { continue }
            pendingLines.append(text)
            // `250-…` continues a reply; `250 …` (or a bare code) ends it.
            let bytes = Array(text.utf8.prefix(4))
            if bytes.count < 4 || bytes[3] == UInt8(ascii: " ") {
                if let reply = SMTPReply(lines: pendingLines) {
                    exchanges.append(Exchange(command: lastCommand, reply: reply))
                }
                pendingLines.removeAll(keepingCapacity: true)
            }
        }
    }

    func sent(_ bytes: UnsafeBufferPointer<UInt8>) {
        let verb = bytes.prefix { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A && $0 != UInt8(ascii: ":") }
        lastCommand = String(decoding: verb, as: UTF8.self).uppercased()
        if lastCommand.isEmpty || lastCommand.count > 10 { lastCommand = "AUTH" }
    }

    /// Installs the debug callback on `handle`; `self` must outlive the handle's transfers.
    func attach(to handle: CurlHandle) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        bs_setopt_debug_function(handle.raw, { _, type, data, size, context in
            guard let context, let data else { return 0 }
            let conversation = Unmanaged<ServerConversation>.fromOpaque(context).takeUnretainedValue()
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size)
            switch type {
            case CURLINFO_HEADER_IN: conversation.received(bytes)
            case CURLINFO_HEADER_OUT: conversation.sent(bytes)
            default: break
            }
            return 0
        }, context)
    }
}
