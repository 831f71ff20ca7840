import CCurl
import CurlShim
import Delivery
import Foundation

/// An IMAP mailbox (`imap://host:port/INBOX` or `imaps://…`) read through libcurl: new
/// messages by UID, fetched one by one, then marked seen, moved or deleted. One
/// connection, signed in once, reused for every command.
public final class IMAPMailbox {
    public struct Account: Sendable {
        /// `imap://host:port/MAILBOX` or `imaps://host:port/MAILBOX`.
        public var url: String
        public var user: String
        public var password: String
        public var caFile: String?
        public var insecureSkipVerify = false
        /// An OAuth 2 sign-in (XOAUTH2) instead of the password, asked for when the connection opens.
        public var credentialSource: (any CredentialSource)?

        public init(url: String, user: String, password: String) {
            self.url = url
            self.user = user
            self.password = password
        }

        /// Signs in with what `source` gives (an OAuth 2 token), never a password.
        public init(url: String, user: String, credentialSource source: any CredentialSource) {
            self.init(url: url, user: user, password: "")
            credentialSource = source
        }
    }

    private let account: Account
    private let handle: CurlHandle
    private let response = Response()

    public init(_ account: Account) throws(TransportError) {
        guard account.url.hasPrefix("imap://") || account.url.hasPrefix("imaps://") else {
            throw TransportError("'\(account.url)' is not an IMAP URL; write imaps://host/INBOX")
        }
        self.account = account
        handle = try CurlHandle()
        try signIn(renewing: false)
        handle.set(CURLOPT_CONNECTTIMEOUT, 15)
        handle.set(CURLOPT_USE_SSL, Int(account.url.hasPrefix("imaps://") ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        if let caFile = account.caFile { handle.set(CURLOPT_CAINFO, caFile) }
        if account.insecureSkipVerify {
            handle.set(CURLOPT_SSL_VERIFYPEER, 0)
            handle.set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        response.attach(to: handle)
    }

    /// The mailbox's UIDVALIDITY and the UIDs above `uid`, in order.
    public func messages(after uid: Int64) throws(TransportError) -> (uidValidity: Int64, uids: [Int64]) {
        try run(url: account.url, command: "UID SEARCH UID \(uid + 1):*")
        var uids: [Int64] = []
        for line in response.lines where line.hasPrefix("* SEARCH") {
            uids += line.dropFirst(8).split(separator: " ").compactMap { Int64($0) }
        }
        // `n:*` always includes the highest UID, even when it is below n.
        uids = Array(Set(uids.filter { $0 > uid })).sorted()
        guard let validity = response.lines.lazy.compactMap(Self.uidValidity).first else {
            throw TransportError("\(account.url) did not say its UIDVALIDITY")
        }
        return (validity, uids)
    }

    /// The message with this UID, as bytes.
    public func fetch(uid: Int64) throws(TransportError) -> [UInt8] {
        try run(url: "\(account.url);UID=\(uid)", command: nil)
        return response.body
    }

    public func markSeen(uid: Int64) throws(TransportError) {
        try run(url: account.url, command: "UID STORE \(uid) +FLAGS (\\Seen)")
    }

    public func move(uid: Int64, to folder: String) throws(TransportError) {
        try run(url: account.url, command: "UID MOVE \(uid) \"\(folder)\"")
    }

    public func delete(uid: Int64) throws(TransportError) {
        try run(url: account.url, command: "UID STORE \(uid) +FLAGS (\\Deleted)")
        try run(url: account.url, command: "EXPUNGE")
    }

    /// UIDs of the messages whose Message-ID header is `<messageID>` (RFC 3501 SEARCH HEADER).
    public func search(messageID: String) throws(TransportError) -> [Int64] {
        let quoted = "<\(messageID)>".replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "")
        try run(url: account.url, command: "UID SEARCH HEADER Message-ID \"\(quoted)\"")
        return response.lines.filter { $0.hasPrefix("* SEARCH") }.flatMap { $0.dropFirst(8).split(separator: " ").compactMap { Int64($0) } }
    }

    /// Appends `message` to the mailbox (IMAP APPEND, which libcurl sends with the `\Seen` flag: read, as sent mail is).
    public func append(_ message: [UInt8]) throws(TransportError) {
        let upload = Upload(bytes: message)
        let context = Unmanaged.passUnretained(upload).toOpaque()
        bs_setopt_read_function(handle.raw, { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
            let n = min(size * count, upload.bytes.count - upload.offset)
            upload.bytes.withUnsafeBufferPointer { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: n)
            }
            upload.offset += n
            return n
        }, context)
        handle.set(CURLOPT_UPLOAD, 1)
        handle.set(CURLOPT_INFILESIZE_LARGE, message.count)
        defer {
            handle.set(CURLOPT_UPLOAD, 0)
            bs_setopt_read_function(handle.raw, nil, nil)
        }
        try withExtendedLifetime(upload) { () throws(TransportError) in
            try run(url: account.url, command: nil, rewind: { upload.offset = 0 })
        }
    }

    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(bytes: [UInt8]) { self.bytes = bytes }
    }

    /// The password, or XOAUTH2 with the token the credential source gives now.
    private func signIn(renewing: Bool) throws(TransportError) {
        switch try account.credentialSource?.credentials(renewing: renewing) {
        case .oauth2(user: let user, bearerToken: let token)?:
            handle.set(CURLOPT_USERNAME, user)
            handle.set(CURLOPT_XOAUTH2_BEARER, token)
            handle.set(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2")
        case .password(user: let user, password: let password)?:
            handle.set(CURLOPT_USERNAME, user)
            handle.set(CURLOPT_PASSWORD, password)
        case nil:
            handle.set(CURLOPT_USERNAME, account.user)
            handle.set(CURLOPT_PASSWORD, account.password)
        }
    }

    private func run(url: String, command: String?, rewind: () -> Void = {}) throws(TransportError) {
        response.reset()
        handle.set(CURLOPT_URL, url)
        handle.set(CURLOPT_CUSTOMREQUEST, command)
        var code = handle.perform()
        if code == CURLE_LOGIN_DENIED, account.credentialSource != nil {
            // A token refused (expired, revoked): once more with a new one, on a new connection.
            try signIn(renewing: true)
            handle.set(CURLOPT_FRESH_CONNECT, 1)
            response.reset()
            rewind()
            code = handle.perform()
            handle.set(CURLOPT_FRESH_CONNECT, 0)
        }
        guard code == CURLE_OK else {
            let detail = handle.errorDetail(code)
            if code == CURLE_LOGIN_DENIED {
                throw TransportError(account.credentialSource == nil
                    ? "\(Self.hostPart(url)) refused the IMAP sign-in: check the user and the password's environment variable"
                    : "\(Self.hostPart(url)) refused the IMAP sign-in with an OAuth 2 token: the token may lack the IMAP scope (sign in again with broadside auth login)")
            }
            throw TransportError("IMAP \(command ?? "FETCH") on \(Self.hostPart(url)) failed: \(detail)")
        }
    }

    static func uidValidity(_ line: String) -> Int64? {
        guard let range = line.range(of: "[UIDVALIDITY ") else { return nil }
        return Int64(line[range.upperBound...].prefix { $0.isNumber })
    }

    private static func hostPart(_ url: String) -> String {
        String(url.split(separator: "/").dropFirst().first ?? Substring(url))
    }

    /// The server's lines (from the debug stream) and the body curl delivers.
    final class Response {
        var lines: [String] = []
        var body: [UInt8] = []

        func reset() {
            lines.removeAll()
            body.removeAll(keepingCapacity: true)
        }

        func attach(to handle: CurlHandle) {
            let context = Unmanaged.passUnretained(self).toOpaque()
            bs_setopt_write_function(handle.raw, { data, size, count, context in
                guard let data, let context else { return 0 }
                let response = Unmanaged<Response>.fromOpaque(context).takeUnretainedValue()
                let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
                response.body.append(contentsOf: bytes)
                // Untagged replies to a custom command arrive here too.
                for line in bytes.split(separator: 0x0A) {
                    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    if text.hasPrefix("*") { response.lines.append(text) }
                }
                return size * count
            }, context)
            bs_setopt_debug_function(handle.raw, { _, type, data, size, context in
                guard let context, let data, type == CURLINFO_HEADER_IN else { return 0 }
                let response = Unmanaged<Response>.fromOpaque(context).takeUnretainedValue()
                let text = String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size), as: UTF8.self)
                for line in text.split(separator: "\n") { response.lines.append(line.trimmingCharacters(in: .whitespacesAndNewlines)) }
                return 0
            }, context)
        }
    }
}
