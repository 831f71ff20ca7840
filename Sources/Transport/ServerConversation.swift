import CCurl
import CurlShim
import Delivery

/// What the server said during one transfer: every reply, in order, from curl's header
/// callback (which, for SMTP, receives the server's responses). Verbose mode would name
/// the command each reply answers, but formatting its text costs a tenth of the
/// sending; the order of the replies says enough.
final class ServerConversation {
    /// The reply lines of this transfer, one after another, each line ending in "\n".
    /// Kept as bytes and turned into `SMTPReply`s only when asked: a message's transfer
    /// brings four replies and usually only the last one is recorded.
    private var bytes: [UInt8] = []
    /// Each complete reply: its code and where its lines are in `bytes`.
    private var replies: [(code: Int, range: Range<Int>)] = []
    /// Where the reply being received starts in `bytes`.
    private var replyStart = 0

    func reset() {
        bytes.removeAll(keepingCapacity: true)
        replies.removeAll(keepingCapacity: true)
        replyStart = 0
    }

    /// The last reply that says something about the message: curl ends a failed
    /// transaction with QUIT, and `221 Bye` (only ever said on closing) is not the verdict.
    var lastReply: SMTPReply? {
        replies.last { $0.code != 221 }.flatMap(reply)
    }

    /// Whether any reply so far holds `word` (an EHLO keyword such as SMTPUTF8).
    func mentions(_ word: String) -> Bool {
        let needle = Array(word.utf8)
        guard needle.count <= bytes.count else { return false }
        return (0...(bytes.count - needle.count)).contains { start in bytes[start..<start + needle.count].elementsEqual(needle) }
    }

    /// Replies received so far, the closing 221 left out.
    var verdictCount: Int { replies.count { $0.code != 221 } }

    /// The reply to the recipient's own RCPT, once DATA has been answered: the `rcpts`
    /// replies before the 354 are the RCPTs', the recipient's first.
    func recipientReply(rcpts: Int) -> SMTPReply? {
        guard let data = replies.lastIndex(where: { $0.code == 354 }), data >= rcpts else { return nil }
        return reply(replies[data - rcpts])
    }

    private func reply(_ entry: (code: Int, range: Range<Int>)) -> SMTPReply? {
        let text = String(decoding: bytes[entry.range.lowerBound..<entry.range.upperBound - 1], as: UTF8.self)
        return SMTPReply(lines: text.split(separator: "\n").map(String.init))
    }

    func received(_ data: UnsafeBufferPointer<UInt8>) {
        var lineStart = data.startIndex
        while lineStart < data.endIndex {
            var lineEnd = lineStart
            while lineEnd < data.endIndex && data[lineEnd] != 0x0A { lineEnd += 1 }
            var end = lineEnd
            if end > lineStart, data[end - 1] == 0x0D { end -= 1 }
            if end > lineStart {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: data[lineStart..<end]))
                bytes.append(0x0A)
                // `250-…` continues a reply; `250 …` (or a bare code) ends it.
                if end - lineStart < 4 || data[lineStart + 3] == UInt8(ascii: " ") {
                    if let code = Self.code(data[lineStart..<end]) { replies.append((code, replyStart..<bytes.count)) }
                    replyStart = bytes.count
                }
            }
            lineStart = lineEnd + 1
        }
    }

    /// The three digits at the start of a reply's last line.
    private static func code(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard line.count >= 3 else { return nil }
        var code = 0
        for byte in line.prefix(3) {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            code = code * 10 + Int(byte - 0x30)
        }
        return code
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
