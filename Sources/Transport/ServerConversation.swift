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
    /// The lines of the reply being received, as bytes: text is made once per reply.
    private var pending: [UInt8] = []
    private var lastCommand = "CONNECT"

    func reset() {
        exchanges.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
        lastCommand = "CONNECT"
    }

    /// The last reply that says something about the message: curl ends a failed
    /// transaction with QUIT, and `221 Bye` is not the verdict.
    var lastReply: SMTPReply? { exchanges.last { $0.command != "QUIT" }?.reply }

    /// Replies received so far, QUIT's left out.
    var verdictCount: Int { exchanges.count { $0.command != "QUIT" } }

    func received(_ bytes: UnsafeBufferPointer<UInt8>) {
        for line in bytes.split(separator: 0x0A) {
            var end = line.endIndex
            if end > line.startIndex, line[end - 1] == 0x0D { end -= 1 }
            guard end > line.startIndex else { continue }
            if !pending.isEmpty { pending.append(0x0A) }
            pending.append(contentsOf: line[line.startIndex..<end])
            // `250-…` continues a reply; `250 …` (or a bare code) ends it.
            let length = end - line.startIndex
            if length < 4 || line[line.startIndex + 3] == UInt8(ascii: " ") {
                let lines = String(decoding: pending, as: UTF8.self).split(separator: "\n").map(String.init)
                if let reply = SMTPReply(lines: lines) {
                    exchanges.append(Exchange(command: lastCommand, reply: reply))
                }
                pending.removeAll(keepingCapacity: true)
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
