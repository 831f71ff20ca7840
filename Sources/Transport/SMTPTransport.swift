import CCurl
import CurlShim
import Delivery
import Foundation

/// Delivers through an SMTP server with libcurl: TLS, STARTTLS, AUTH PLAIN/LOGIN/XOAUTH2
/// and connection reuse come from curl. One session (one easy handle, one connection)
/// per sending thread.
public struct SMTPTransport: MessageTransport {
    public let server: SMTPServer
    /// What the server's EHLO offered when `verify` connected.
    let capabilities = ServerCapabilities()

    public init(server: SMTPServer) {
        self.server = server
    }

    public func verify() throws(TransportError) {
        let handle = try CurlHandle()
        let conversation = ServerConversation()
        conversation.attach(to: handle)
        SMTPSession.configure(handle, for: server)
        handle.set(CURLOPT_CUSTOMREQUEST, "NOOP")
        bs_setopt_write_function(handle.raw, { _, size, count, _ in size * count }, nil)
        if let source = server.credentialSource { SMTPSession.apply(try source.credentials(renewing: false), to: handle) }
        var code = handle.perform()
        if code == CURLE_LOGIN_DENIED, let source = server.credentialSource {
            // A token refused at once (expired, revoked): once more with a new one.
            SMTPSession.apply(try source.credentials(renewing: true), to: handle)
            handle.set(CURLOPT_FRESH_CONNECT, 1)
            code = handle.perform()
        }
        guard code == CURLE_OK else {
            throw Self.connectionError(code, detail: handle.errorDetail(code), reply: conversation.lastReply, server: server)
        }
        capabilities.set(smtpUTF8: conversation.mentions("SMTPUTF8"))
    }

    public func makeSession(number: Int) throws(TransportError) -> any TransportSession {
        try SMTPSession(server: server, number: number, capabilities: capabilities)
    }

    /// One line that says what is wrong with reaching or signing in to the server.
    static func connectionError(_ code: CURLcode, detail: String, reply: SMTPReply?, server: SMTPServer) -> TransportError {
        let said = reply.map { " (the server said: \($0.text))" } ?? ""
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return TransportError("cannot resolve \(server.host): check the SMTP host name", reply: reply, kind: .unreachable)
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT:
            return TransportError("cannot reach the SMTP server at \(server.address): \(detail)", reply: reply, kind: .unreachable)
        case CURLE_LOGIN_DENIED:
            return TransportError("\(server.address) refused the sign-in\(said): check the user and the password's environment variable", reply: reply,
                                  kind: .signInRefused)
        case CURLE_USE_SSL_FAILED:
            return TransportError("\(server.address) does not offer STARTTLS, which this profile requires", reply: reply, kind: .tls)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE:
            return TransportError("TLS with \(server.address) failed: \(detail); if the server uses a private CA, give it with ca_file", reply: reply,
                                  kind: .tls)
        default:
            return TransportError("SMTP with \(server.address) failed: \(detail)\(said)", reply: reply)
        }
    }
}

/// One SMTP connection, reused across messages until `messagesPerConnection`.
final class SMTPSession: TransportSession {
    private let handle: CurlHandle
    private let server: SMTPServer
    private let conversation = ServerConversation()
    private var sentOnConnection = 0
    private var needsFreshConnection = false
    private let capabilities: ServerCapabilities

    init(server: SMTPServer, number: Int, capabilities: ServerCapabilities) throws(TransportError) {
        self.server = server
        self.capabilities = capabilities
        handle = try CurlHandle()
        conversation.attach(to: handle)
        Self.configure(handle, for: server)
        handle.set(CURLOPT_UPLOAD, 1)
    }

    static func configure(_ handle: CurlHandle, for server: SMTPServer) {
        handle.set(CURLOPT_URL, server.curlURL)
        handle.set(CURLOPT_CONNECTTIMEOUT_MS, Int(server.connectTimeout * 1000))
        // No reply within this long counts as a lost connection.
        handle.set(CURLOPT_SERVER_RESPONSE_TIMEOUT, Int(server.replyTimeout.rounded(.up)))
        // A server that stops reading mid-upload blocks a write, where the reply timeout does
        // not apply: a transfer that moves nothing for as long ends too.
        handle.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        handle.set(CURLOPT_LOW_SPEED_TIME, Int(server.replyTimeout.rounded(.up)))
        handle.set(CURLOPT_MAXAGE_CONN, Int(server.idleTimeout.rounded(.up)))
        handle.set(CURLOPT_TCP_NODELAY, 1)
        var security = server.security
        // Never send a password in clear to anything but this machine.
        if server.credentials != nil, security == .opportunistic, !server.isLoopback { security = .startTLS }
        switch security {
        case .implicitTLS, .startTLS: handle.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        case .opportunistic: handle.set(CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        case .none: handle.set(CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
        }
        if let caFile = server.caFile { handle.set(CURLOPT_CAINFO, caFile) }
        if server.insecureSkipVerify {
            handle.set(CURLOPT_SSL_VERIFYPEER, 0)
            handle.set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let credentials = server.credentials { apply(credentials, to: handle) }
    }

    static func apply(_ credentials: SMTPServer.Credentials, to handle: CurlHandle) {
        switch credentials {
        case .password(let user, let password):
            handle.set(CURLOPT_USERNAME, user)
            handle.set(CURLOPT_PASSWORD, password)
        case .oauth2(let user, let token):
            handle.set(CURLOPT_USERNAME, user)
            handle.set(CURLOPT_XOAUTH2_BEARER, token)
            handle.set(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2")
        }
    }

    /// Credentials for the connection about to open, from the source; a source that fails
    /// reads as the server asking for a sign-in (the run pauses, no message is at fault).
    private func signIn(renewing: Bool) -> DeliveryOutcome? {
        guard let source = server.credentialSource else { return nil }
        do {
            Self.apply(try source.credentials(renewing: renewing), to: handle)
            return nil
        } catch {
            let reply = SMTPReply(code: 530, enhancedStatus: "5.7.0", text: "530 5.7.0 no credentials to sign in with: \(error.message)")
            return .deferred(reply, detail: reply.text)
        }
    }

    func deliver(_ message: OutgoingMessage, beforeEndOfData: () -> Bool) -> DeliveryOutcome {
        withoutActuallyEscaping(beforeEndOfData) { beforeEndOfData in
            let upload = Upload(data: message.data, conversation: conversation, rcpts: 1 + message.envelope.copies.count,
                                beforeEndOfData: beforeEndOfData)
            return deliver(message, upload: upload)
        }
    }

    private func deliver(_ message: OutgoingMessage, upload: Upload) -> DeliveryOutcome {
        // An address with a non-ASCII local part needs SMTPUTF8 (RFC 6531); never give it to a server without it.
        if capabilities.smtpUTF8 == false,
           let address = ([message.envelope.recipient, message.envelope.returnPath] + message.envelope.copies).first(where: { !$0.utf8.allSatisfy { $0 < 0x80 } }) {
            let reply = SMTPReply(code: 553, enhancedStatus: "5.6.7", text: "553 5.6.7 not sent: \(address) needs SMTPUTF8, which \(server.address) does not offer")
            return .failed(reply, detail: reply.text)
        }
        conversation.reset()
        var opensConnection = sentOnConnection == 0
        if needsFreshConnection || sentOnConnection >= server.messagesPerConnection {
            handle.set(CURLOPT_FRESH_CONNECT, 1)
            sentOnConnection = 0
            opensConnection = true
        } else {
            handle.set(CURLOPT_FRESH_CONNECT, 0)
        }
        needsFreshConnection = false
        // Each new connection asks for what to sign in with now (a token renewed in time).
        if opensConnection, let refused = signIn(renewing: false) { return refused }
        handle.set(CURLOPT_MAIL_FROM, "<\(message.envelope.returnPath)>")
        handle.set(CURLOPT_MAIL_RCPT, list: (["<\(message.envelope.recipient)>"] + message.envelope.copies.map { "<\($0)>" }))
        // With copies, one refused Cc must not fail the recipient's delivery (curl 7.88 spells it ALLLOWFAILS).
        handle.set(CURLOPT_MAIL_RCPT_ALLLOWFAILS, message.envelope.copies.isEmpty ? 0 : 1)
        handle.set(CURLOPT_INFILESIZE_LARGE, message.data.count)
        let context = Unmanaged.passUnretained(upload).toOpaque()
        bs_setopt_read_function(handle.raw, { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            return Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue().read(into: buffer, capacity: size * count)
        }, context)

        var code = withExtendedLifetime(upload) { handle.perform() }
        if code == CURLE_LOGIN_DENIED, server.credentialSource != nil {
            // Refused at sign-in (before any of the message was sent): a new token, a new
            // connection, once; the message is not failed or deferred for it.
            if let refused = signIn(renewing: true) { needsFreshConnection = true; return refused }
            conversation.reset()
            handle.set(CURLOPT_FRESH_CONNECT, 1)
            code = withExtendedLifetime(upload) { handle.perform() }
        }
        sentOnConnection += 1
        if code == CURLE_OK {
            let reply = conversation.lastReply ?? SMTPReply(code: 250, text: "250 (the server's reply was not captured)")
            return .accepted(reply)
        }
        // Whatever state the connection is in now, the next message starts on a new one.
        needsFreshConnection = true
        let detail = handle.errorDetail(code)
        if upload.endOfDataSent {
            // A reply that came after the final "." is the server's verdict on the message.
            if conversation.verdictCount > upload.repliesBeforeEnd, let reply = conversation.lastReply {
                return DeliveryOutcome(finalReply: reply)
            }
            return .unknown(detail: "the connection was lost after the end of DATA, before the server's reply (\(detail)): possibly delivered")
        }
        if code == CURLE_ABORTED_BY_CALLBACK {
            if let refused = upload.recipientRefusal { return DeliveryOutcome(finalReply: refused, afterEndOfData: false) }
            return .deferred(nil, detail: "not sent: the campaign stopped before the end of DATA")
        }
        if let reply = conversation.lastReply, reply.code >= 400 {
            return DeliveryOutcome(finalReply: reply, afterEndOfData: false)
        }
        return .deferred(nil, detail: "\(SMTPTransport.connectionError(code, detail: detail, reply: nil, server: server).message), before the end of DATA")
    }

    func close() {
        handle.close()
    }

    /// Feeds the message to curl and runs the caller's commit just before the end of DATA.
    private final class Upload {
        let data: [UInt8]
        var offset = 0
        let beforeEndOfData: () -> Bool
        var endOfDataSent = false
        /// How many replies had come when the end of DATA was signalled.
        var repliesBeforeEnd = 0
        let conversation: ServerConversation
        /// RCPT commands in the transaction: the recipient and its Cc copies.
        let rcpts: Int

        init(data: [UInt8], conversation: ServerConversation, rcpts: Int, beforeEndOfData: @escaping () -> Bool) {
            self.data = data
            self.conversation = conversation
            self.rcpts = rcpts
            self.beforeEndOfData = beforeEndOfData
        }

        /// curl knows the size (it announces it in MAIL FROM ... SIZE=) and stops asking once
        /// it has that many bytes, then sends the final ".". So the commit runs in the call
        /// that hands over the last bytes: after it nothing is between us and the ".".
        /// The recipient's own RCPT reply when it was refused while a Cc was accepted.
        var recipientRefusal: SMTPReply?

        func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
            // Before any data: if the recipient was refused and only Cc copies were taken,
            // send nothing, or a retry would give the Cc a second copy.
            if offset == 0 && !endOfDataSent && rcpts > 1,
               let first = conversation.recipientReply(rcpts: rcpts), first.code >= 400 {
                recipientRefusal = first
                return Int(CURL_READFUNC_ABORT)
            }
            let remaining = data.count - offset
            if remaining <= capacity && !endOfDataSent {
                guard beforeEndOfData() else { return Int(CURL_READFUNC_ABORT) }
                repliesBeforeEnd = conversation.verdictCount
                endOfDataSent = true
            }
            let n = min(remaining, capacity)
            guard n > 0 else { return 0 }
            data.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + offset, byteCount: n)
            }
            offset += n
            return n
        }
    }
}

/// What a server offered in its EHLO reply, learnt when the transport first connects.
final class ServerCapabilities: @unchecked Sendable {
    private let lock = NSLock()
    private var offersSMTPUTF8: Bool?

    /// nil until known.
    var smtpUTF8: Bool? {
        lock.lock()
        defer { lock.unlock() }
        return offersSMTPUTF8
    }

    func set(smtpUTF8: Bool) {
        lock.lock()
        offersSMTPUTF8 = smtpUTF8
        lock.unlock()
    }
}
