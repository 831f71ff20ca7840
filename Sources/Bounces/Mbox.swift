/// Splits an mbox file into its messages at the `From ` lines that follow a blank line.
public enum Mbox {
    public static func looksLikeMbox(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: Array("From ".utf8))
    }

    public static func split(_ data: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var current: [UInt8] = []
        var lineStart = true
        var index = 0
        let separator = Array("From ".utf8)
        while index < data.count {
            if lineStart, data[index...].starts(with: separator), !current.isEmpty,
               current.suffix(2) == [0x0A, 0x0A] || current.suffix(4) == [0x0D, 0x0A, 0x0D, 0x0A] {
                messages.append(current)
                current = []
            }
            current.append(data[index])
            lineStart = data[index] == 0x0A
            index += 1
        }
        if !current.isEmpty { messages.append(current) }
        return messages
    }
}
