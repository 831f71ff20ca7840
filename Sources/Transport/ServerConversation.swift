import CCurl
import CurlShim
import Delivery

/// What the server said during one transfer: every reply, in order, from curl's header
/// callback (which, for SMTP, receives the server's responses). Verbose mode would name
/// the command each reply answers, but formatting its text costs a tenth of the
/// sending; the order of the replies says enough.
final class ServerConversation {
    private(set) var replies: [SMTPReply] = []
    /// The lines of the reply being received, as bytes: text is made once per reply.
    private var pending: [UInt8] = []

    func reset() {
        replies.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
    }

    /// The last reply that says something about the message: curl ends a failed
    /// transaction with QUIT, and `221 Bye` (only ever said on closing) is not the verdict.
    var lastReply: SMTPReply? { replies.last { $0.code != 221 } }

    /// Replies received so far, the closing 221 left out.
    var verdictCount: Int { replies.count { $0.code != 221 } }

    /// The reply to the recipient's own RCPT, once DATA has been answered: the `rcpts`
    /// replies before the 354 are the RCPTs', the recipient's first.
    func recipientReply(rcpts: Int) -> SMTPReply? {
        guard let data = replies.lastIndex(where: { $0.code == 354 }), data >= rcpts else { return nil }
        return replies[data - rcpts]
    }

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
                if let reply = SMTPReply(lines: lines) { replies.append(reply) }
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Installs the header callback on `handle`; `self` must outlive the handle's transfers.
    func attach(to handle: CurlHandle) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        bs_setopt_header_function(handle.raw, { data, size, count, context in
            guard let context, let data else { return size * count }
            let conversation = Unmanaged<ServerConversation>.fromOpaque(context).takeUnretainedValue()
            conversation.received(UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count))
            return size * count
        }, context)
    }
}
