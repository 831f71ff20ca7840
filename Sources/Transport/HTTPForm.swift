import Addresses
import CCurl
import CurlShim
import Delivery
import Foundation

/// An HTML form posted over HTTPS with libcurl (RFC 6749's token requests): the
/// certificate is verified, and plain `http://` is allowed only to a loopback address
/// (a test's authorization server), so a token or a client secret never crosses a network
/// in the clear.
public enum HTTPForm {
    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    public static func post(_ url: String, fields: [(String, String)], caFile: String? = nil, timeout: Int = 30) throws(TransportError) -> Answer {
        try checkSecure(url)
        let handle = try CurlHandle()
        let sink = Sink()
        handle.set(CURLOPT_URL, url)
        handle.set(CURLOPT_COPYPOSTFIELDS, encode(fields))
        handle.set(CURLOPT_TIMEOUT, timeout)
        handle.set(CURLOPT_CONNECTTIMEOUT, 15)
        handle.set(CURLOPT_PROTOCOLS_STR, "http,https")
        handle.set(CURLOPT_USERAGENT, "broadside")
        handle.set(CURLOPT_HTTPHEADER, list: ["Accept: application/json"])
        if let caFile { handle.set(CURLOPT_CAINFO, caFile) }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        bs_setopt_write_function(handle.raw, { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }, context)
        let code = withExtendedLifetime(sink) { handle.perform() }
        guard code == CURLE_OK else {
            throw TransportError("cannot reach \(hostPart(url)): \(handle.errorDetail(code))")
        }
        var status = 0
        bs_getinfo_long(handle.raw, CURLINFO_RESPONSE_CODE, &status)
        return Answer(status: status, body: sink.bytes)
    }

    /// `https://`, or `http://` to this machine only.
    static func checkSecure(_ url: String) throws(TransportError) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host else {
            throw TransportError("'\(url)' is not a URL")
        }
        if scheme == "https" || (scheme == "http" && LoopbackHost.isLoopback(host)) { return }
        throw TransportError("'\(url)' must be https:// (a sign-in never goes over plain HTTP, except to this machine)")
    }

    /// application/x-www-form-urlencoded, as RFC 6749 appendix B spells it.
    public static func encode(_ fields: [(String, String)]) -> String {
        // ASCII only: CharacterSet.alphanumerics would let non-ASCII letters through unencoded.
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return fields.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    private static func hostPart(_ url: String) -> String {
        URLComponents(string: url)?.host ?? url
    }

    private final class Sink {
        var bytes: [UInt8] = []
    }
}
