import Delivery
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The browser sign-in's way back (RFC 8252 section 7.3): a one-request HTTP listener on a
/// loopback port the system picks. The identity platform redirects the browser to
/// `http://127.0.0.1:PORT/?code=…&state=…`; the listener answers a short page and hands
/// the query to the caller. Nothing listens beyond this machine.
public final class LoopbackRedirect {
    public let port: Int
    private let socketFD: Int32

    public var redirectURI: String { "http://127.0.0.1:\(port)/" }

    public init() throws(TransportError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TransportError("cannot open a loopback port for the sign-in") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 4) == 0 else {
            close(fd)
            throw TransportError("cannot listen on a loopback port for the sign-in")
        }
        socketFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socketFD) }

    /// Waits up to `timeout` seconds for the redirect whose query carries `state`, answers
    /// the browser, and returns the query's fields. Requests without that state (a stray
    /// visit, a favicon) get a 404 and the wait goes on.
    public func waitForRedirect(state: String, timeout: Double) throws(TransportError) -> [String: String] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw TransportError("no sign-in came back within \(Int(timeout)) seconds") }
            var poller = pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(min(left, 1) * 1000)) > 0 else { continue }
            let client = accept(socketFD, nil, nil)
            guard client >= 0 else { continue }
            defer { close(client) }
            var timeoutValue = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeoutValue, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while request.count < 16_384, !request.ends(with: [13, 10, 13, 10]) {
                let count = read(client, &buffer, buffer.count)
                if count <= 0 { break }
                request += buffer[0..<count]
            }
            let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
            let fields = Self.query(ofRequestLine: line)
            guard fields["state"] == state else {
                Self.answer(client, status: "404 Not Found", text: "Not the sign-in this program is waiting for.")
                continue
            }
            let refused = fields["error"] != nil
            Self.answer(client, status: "200 OK", text: refused ? "The sign-in was refused; see the terminal." : "Signed in. You can close this window and go back to the terminal.")
            return fields
        }
    }

    /// `GET /?a=b&c=d HTTP/1.1` → the query's fields, percent-decoded.
    static func query(ofRequestLine line: String) -> [String: String] {
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET", let components = URLComponents(string: String(parts[1])) else { return [:] }
        var fields: [String: String] = [:]
        for item in components.queryItems ?? [] { fields[item.name] = item.value ?? "" }
        return fields
    }

    private static func answer(_ client: Int32, status: String, text: String) {
        let body = "<!doctype html><meta charset=utf-8><title>Broadside</title><p>\(text)</p>"
        let response = "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { write(client, $0, strlen($0)) }
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
