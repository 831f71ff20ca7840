/// An mbox file: messages one after another, each starting with a `From ` line that
/// follows a blank line.
public enum Mbox {
    public static func looksLikeMbox<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.starts(with: "From ".utf8)
    }

    /// Every message of a whole mbox held in memory.
    public static func split(_ data: [UInt8]) -> [[UInt8]] {
        var splitter = MboxSplitter(limit: .max)
        var messages: [[UInt8]] = []
        splitter.feed(data) { messages.append($0.bytes) }
        splitter.finish { messages.append($0.bytes) }
        return messages
    }
}

/// Splits an mbox into its messages as it is read, chunk by chunk, so that a file of
/// any size is read whole in bounded memory. A message over `limit` bytes keeps its
/// first `limit` bytes (a bounce says what it must at its start) and says it was cut.
public struct MboxSplitter {
    public struct Message: Sendable {
        public var bytes: [UInt8]
        /// It was longer than the limit and holds only its start.
        public var truncated: Bool
    }

    let limit: Int
    private var current: [UInt8] = []
    private var truncated = false
    private var line: [UInt8] = []
    private var lastLineBlank = false

    public init(limit: Int) {
        self.limit = limit
    }

    public mutating func feed<Bytes: Collection<UInt8>>(_ chunk: Bytes, _ emit: (Message) throws -> Void) rethrows {
        for byte in chunk {
            line.append(byte)
            if byte == 0x0A {
                try takeLine(emit)
            }
        }
    }

    /// The last message, once the file has ended.
    public mutating func finish(_ emit: (Message) throws -> Void) rethrows {
        if !line.isEmpty { try takeLine(emit) }
        if !current.isEmpty { try emit(Message(bytes: current, truncated: truncated)) }
        current = []
        truncated = false
    }

    private mutating func takeLine(_ emit: (Message) throws -> Void) rethrows {
        if !current.isEmpty, line.starts(with: "From ".utf8), lastLineBlank || Self.isSeparator(line) {
            try emit(Message(bytes: current, truncated: truncated))
            current.removeAll(keepingCapacity: true)
            truncated = false
        }
        lastLineBlank = line == [0x0A] || line == [0x0D, 0x0A]
        let room = limit - current.count
        if line.count <= room {
            current += line
        } else {
            current += line.prefix(max(0, room))
            truncated = true
        }
        line.removeAll(keepingCapacity: true)
    }

    /// `From sender  Thu Jul  2 12:05:05 2020`: some tools write it with no blank line before
    /// (right after a closing MIME boundary). Its time and year tell it from a body line that
    /// only starts with "From " (which mbox writers escape as ">From " anyway).
    static func isSeparator(_ line: [UInt8]) -> Bool {
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        guard words.count >= 6 else { return false }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        let hasTime = words.contains { word in
            let w = Array(word)
            return (w.count == 8 || w.count == 5) && w.enumerated().allSatisfy { i, b in i % 3 == 2 ? b == 0x3A : isDigit(b) }
        }
        let hasYear = words.contains { $0.count == 4 && $0.allSatisfy(isDigit) && ($0.first == 0x31 || $0.first == 0x32) }
        return hasTime && hasYear
    }
}
