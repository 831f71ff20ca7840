import Foundation

/// Reads a file in chunks, so that memory does not grow with the file.
struct ByteSource {
    let path: String
    let chunkSize: Int

    init(path: String, chunkSize: Int = 1 << 16) {
        self.path = path
        self.chunkSize = chunkSize
    }

    /// Calls `body` with each chunk in order.
    func forEachChunk(_ body: ([UInt8]) throws -> Void) throws {
        guard let file = fopen(path, "rb") else {
            throw BroadsideError.input("\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, chunkSize, file) }
            if count > 0 { try body(count == chunkSize ? buffer : Array(buffer[..<count])) }
            if count < chunkSize {
                if ferror(file) != 0 { throw BroadsideError.input("\(path): read error (\(String(cString: strerror(errno))))") }
                return
            }
        }
    }
}
