/// The sender and recipient given to the server (MAIL FROM, RCPT TO).
public struct Envelope: Sendable, Equatable {
    public var returnPath: String
    public var recipient: String
    /// Addresses of the recipient's own Cc header: they get this copy in the same
    /// transaction, and their refusal does not fail the recipient's delivery.
    public var copies: [String]

    public init(returnPath: String, recipient: String, copies: [String] = []) {
        self.returnPath = returnPath
        self.recipient = recipient
        self.copies = copies
    }
}

/// One message ready to leave: its row in the store, envelope and bytes.
public struct OutgoingMessage: Sendable {
    public var id: Int64
    public var messageID: String
    public var envelope: Envelope
    public var data: [UInt8]
    /// What the record of its delivery should say besides the server's reply (a Cc left out).
    public var note: String?

    public init(id: Int64, messageID: String, envelope: Envelope, data: [UInt8], note: String? = nil) {
        self.id = id
        self.messageID = messageID
        self.envelope = envelope
        self.data = data
        self.note = note
    }
}

/// A way to hand messages to the world: SMTP through libcurl, or the outbox folder.
public protocol MessageTransport: Sendable {
    /// Connects and signs in once, so that a wrong address or password is reported
    /// before any message changes state.
    func verify() throws(TransportError)

    /// A session for one connection; used by one thread only.
    func makeSession(number: Int) throws(TransportError) -> any TransportSession
}

/// One connection to the server, reused for many messages. Blocking: call it from
/// a thread of its own, never from Swift's cooperative pool.
public protocol TransportSession: AnyObject {
    /// Delivers one message. `beforeEndOfData` runs just before the final `.` of DATA
    /// leaves (it records that the message may now be delivered); if it returns false the message is not sent.
    func deliver(_ message: OutgoingMessage, beforeEndOfData: () -> Bool) -> DeliveryOutcome

    /// Ends the session politely (QUIT).
    func close()
}

/// The environment is wrong: server unreachable, sign-in refused, TLS failed.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for decisions (the message is for people).
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached (now): trying again later may work.
        case unreachable
        /// The server refused the sign-in.
        case signInRefused
        /// TLS failed (the certificate, or no STARTTLS where it is required): a setting to fix.
        case tls
        case other
    }

    public var message: String
    public var reply: SMTPReply?
    public var kind: Kind

    public init(_ message: String, reply: SMTPReply? = nil, kind: Kind = .other) {
        self.message = message
        self.reply = reply
        self.kind = kind
    }

    public var description: String { message }
}
