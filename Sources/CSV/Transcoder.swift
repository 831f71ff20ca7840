#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams bytes in another encoding to UTF-8 with iconv. An invalid sequence is an
/// error naming its line, never a silent replacement character.
public final class Transcoder {
    public let encoding: String
    private let converter: iconv_t
    private var pending: [UInt8] = []
    private var linesSoFar = 1

    /// `encoding` as iconv names it: `GB18030`, `WINDOWS-1252`, `ISO-8859-1`, `UTF-16LE`, …
    public init(from encoding: String) throws(CSVError) {
        self.encoding = encoding
        guard let handle = iconv_open("UTF-8", encoding), handle != iconv_t(bitPattern: -1) else {
            throw CSVError(.unknownEncoding(encoding), line: 0)
        }
        converter = handle
    }

    deinit {
        iconv_close(converter)
    }

    /// Converts `input` (any chunk size); a sequence cut at the chunk's end waits for the next chunk.
    public func convert(_ input: [UInt8]) throws(CSVError) -> [UInt8] {
        var source = pending + input
        pending.removeAll()
        var output = [UInt8](repeating: 0, count: source.count * 4 + 16)
        var produced = 0
        var consumed = 0
        while consumed < source.count {
            var inLeft = source.count - consumed
            var outLeft = output.count - produced
            let result = source.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer -> Int in
                    guard let inBase = inBuffer.baseAddress, let outBase = outBuffer.baseAddress else { return 0 }
                    var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase + consumed).assumingMemoryBound(to: CChar.self)
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBase + produced).assumingMemoryBound(to: CChar.self)
                    return iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                }
            }
            let error = errno
            let newConsumed = source.count - inLeft
            let newProduced = output.count - outLeft
            linesSoFar += output[produced..<newProduced].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            consumed = newConsumed
            produced = newProduced
            if result != -1 { break }
            switch error {
            case E2BIG:
                output += [UInt8](repeating: 0, count: output.count)
            case EINVAL:
                pending = Array(source[consumed...])
                consumed = source.count
            default:
                throw CSVError(.invalidEncoding(encoding), line: linesSoFar)
            }
        }
        source.removeAll()
        output.removeSubrange(produced...)
        return output
    }

    /// Ends the input: bytes still waiting are a sequence cut short.
    public func finish() throws(CSVError) {
        if !pending.isEmpty { throw CSVError(.invalidEncoding(encoding), line: linesSoFar) }
    }
}
