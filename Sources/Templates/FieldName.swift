/// How a template names a column: case-insensitively, with spaces and hyphens read
/// as underscores, so that `{{ first_name }}` finds a column headed "First Name".
public enum FieldName {
    public static func key(_ name: String) -> String {
        // Most names are already keys (`first_name`): no need to build another string.
        if name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) { return name }
        var key = ""
        key.reserveCapacity(name.utf8.count)
        for character in name.lowercased() {
            key.append(character == " " || character == "-" ? "_" : character)
        }
        return key
    }
}

/// One recipient's values, looked up by field name.
public struct MergeRecord: Sendable {
    private var values: [String: String]

    public init(_ fields: [String: String]) {
        var values: [String: String] = [:]
        values.reserveCapacity(fields.count)
        for (name, value) in fields { values[FieldName.key(name)] = value }
        self.values = values
    }

    public subscript(_ name: String) -> String? {
        get { values[FieldName.key(name)] }
        set { values[FieldName.key(name)] = newValue }
    }

    /// Looks up a key already normalised with `FieldName.key`.
    subscript(key key: String) -> String? { values[key] }
}
