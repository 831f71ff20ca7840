/// Writes CSV fields as RFC 4180 wants them: quoted when they hold a delimiter, a
/// quote or a line break, quotes doubled.
public enum CSVWriter {
    public static func quote(_ field: String, delimiter: Character = ",") -> String {
        guard field.contains(where: { $0 == delimiter || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) || field.hasPrefix(" ") || field.hasSuffix(" ") else {
            return field
        }
        return "\"" + field.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// One record, fields joined by `delimiter`, without its line break.
    public static func record(_ fields: [String], delimiter: Character = ",") -> String {
        fields.map { quote($0, delimiter: delimiter) }.joined(separator: String(delimiter))
    }

    /// A record for a file meant for a spreadsheet: a cell that Excel or LibreOffice would
    /// take for a formula (it starts with = + - @, a tab or a carriage return) gets a
    /// leading `'`, as OWASP recommends against formula injection ("CSV Injection").
    public static func spreadsheetRecord(_ fields: [String], delimiter: Character = ",") -> String {
        record(fields.map(inertCell), delimiter: delimiter)
    }

    static func inertCell(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return field }
        return "'" + field
    }
}
