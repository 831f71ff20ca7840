/// Text that came from outside (a server's reply, a recipient, a campaign's name) made
/// safe to print on a terminal: control characters (C0, DEL, C1: ESC and OSC sequences
/// among them, which could move the cursor, retitle the window or hide text) are shown
/// escaped, as `\u{1B}`, instead of being obeyed.
public enum TerminalText {
    public static func inert(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
