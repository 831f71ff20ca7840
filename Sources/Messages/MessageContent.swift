import Addresses

/// A personalised message before it is written out: what the recipient will see.
public struct MessageContent: Sendable {
    public var from: Mailbox
    /// The recipient, alone.
    public var to: Mailbox
    /// The recipient's own Cc (their manager, say); never shared across recipients.
    public var cc: [Mailbox] = []
    public var subject: String
    /// Further headers (Reply-To, List-Unsubscribe, X-…), in order.
    public var headers: [HeaderField]
    public var text: String?
    public var html: String?
    public var attachments: [Attachment]
    /// Images the HTML shows by `cid:` reference.
    public var inlineImages: [InlineImage] = []
    /// The Message-ID without angle brackets; stays the same across retries.
    public var messageID: String
    /// Seconds since 1970, for the Date header.
    public var date: Int64

    public init(from: Mailbox, to: Mailbox, subject: String, headers: [HeaderField] = [], text: String?, html: String? = nil,
                attachments: [Attachment] = [], messageID: String, date: Int64) {
        self.from = from
        self.to = to
        self.subject = subject
        self.headers = headers
        self.text = text
        self.html = html
        self.attachments = attachments
        self.messageID = messageID
        self.date = date
    }
}

public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An image shown inside the HTML part (`<img src="cid:…">`), sent in `multipart/related`.
public struct InlineImage: Sendable {
    /// Without angle brackets, as the HTML's `cid:` names it.
    public var contentID: String
    public var filename: String
    public var contentType: String
    public var data: [UInt8]

    public init(contentID: String, filename: String, contentType: String, data: [UInt8]) {
        self.contentID = contentID
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}

public struct Attachment: Sendable {
    public var filename: String
    public var contentType: String
    public var data: [UInt8]
    /// Filled for this recipient from a document template (as opposed to a file as it is).
    public var isMergedDocument = false

    public init(filename: String, contentType: String, data: [UInt8], isMergedDocument: Bool = false) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
        self.isMergedDocument = isMergedDocument
    }
}
