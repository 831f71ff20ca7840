import Foundation

/// A file a test server appends one JSON object a line to, read while it may be writing.
public enum JSONLines {
    /// The complete lines decoded (the last one may be half written); none when there is no file yet.
    public static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> [T] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let complete = data[..<(data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex)]
        let decoder = JSONDecoder()
        return try complete.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(T.self, from: Data($0)) }
    }
}
