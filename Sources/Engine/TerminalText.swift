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

extension TerminalText {
    /// Columns `text` takes on a terminal: East Asian wide and full-width characters (CJK,
    /// Hangul, full-width forms, most emoji) take two, combining marks none, others one.
    public static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + width(of: $1) }
    }

    static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .enclosingMark || v == 0x200B { return 0 }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// `text` made inert and padded with spaces to `columns` on a terminal (longer text is left as it is).
    public static func padded(_ text: String, to columns: Int) -> String {
        let shown = inert(text)
        return shown + String(repeating: " ", count: max(0, columns - width(shown)))
    }
}
