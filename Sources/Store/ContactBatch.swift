/// Contacts the import's reading thread has checked, packed for its writing thread: the
/// text of every row end to end in one byte buffer, each row naming its parts by offsets,
/// so that neither thread allocates anything per row.
public struct ContactBatch: Sendable {
    /// Every row's text; the reader appends a row's parts here, then adds the row.
    public var text: [UInt8] = []
    private(set) var contacts: [PackedContact] = []

    struct PackedContact: Sendable {
        /// The CSV line it came from.
        var line: Int
        /// Normalised (the key contacts are unique by).
        var address: Range<Int>
        /// The RCPT TO form; nil where it is the normalised address.
        var smtpAddress: Range<Int>?
        /// As written; nil where it is the SMTP form.
        var displayAddress: Range<Int>?
        var needsSMTPUTF8: Bool
        /// The merge fields: a JSON object in the file's column order.
        var fields: Range<Int>
    }

    public init() {
        text.reserveCapacity(1 << 16)
        contacts.reserveCapacity(512)
    }

    public var count: Int { contacts.count }

    /// Adds a contact whose parts are already in `text`.
    public mutating func add(line: Int, address: Range<Int>, smtpAddress: Range<Int>?, displayAddress: Range<Int>?, needsSMTPUTF8: Bool,
                             fields: Range<Int>) {
        precondition([address, smtpAddress ?? address, displayAddress ?? address, fields].allSatisfy { $0.upperBound <= text.count })
        contacts.append(PackedContact(line: line, address: address, smtpAddress: smtpAddress, displayAddress: displayAddress,
                                      needsSMTPUTF8: needsSMTPUTF8, fields: fields))
    }

    /// Appends `bytes` to `text` and says where they are.
    public mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = text.count
        text.append(contentsOf: bytes)
        return start..<text.count
    }

    public mutating func write(_ string: String) -> Range<Int> {
        var string = string
        return string.withUTF8 { write($0) }
    }

    /// Appends `bytes` with ASCII capitals made small.
    public mutating func writeLowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = text.count
        for byte in bytes {
            text.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
        }
        return start..<text.count
    }

    public mutating func removeAll() {
        text.removeAll(keepingCapacity: true)
        contacts.removeAll(keepingCapacity: true)
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: text[range], as: UTF8.self)
    }
}
