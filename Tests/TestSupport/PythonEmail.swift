import Foundation

/// Parses a message with an independent parser, Python's `email` package with
/// `policy=default`, and returns what a mail client would show (text with LF line ends).
public enum PythonEmail {
    public struct Parsed: Decodable, Sendable {
        public var defects: [String]
        public var headers: [String: String]
        public var from_display: String?
        public var to_display: String?
        public var to_addresses: [String]
        public var subject: String?
        public var text: String?
        public var html: String?
        public var attachments: [String]
        public var content_type: String
        public var longest_line: Int
        public var bare_line_feeds: Int
    }

    static let script = #"""
import email, json, sys
from email import policy
raw = sys.stdin.buffer.read()
msg = email.message_from_bytes(raw, policy=policy.default)
defects = [type(d).__name__ for d in msg.defects]
text = html = None
attachments = []
for part in msg.walk():
    defects += [type(d).__name__ for d in part.defects]
    if part.is_multipart():
        continue
    if part.get_content_disposition() == "attachment":
        attachments.append(part.get_filename())
    elif part.get_content_type() == "text/plain" and text is None:
        text = part.get_content().replace("\r\n", "\n")
    elif part.get_content_type() == "text/html" and html is None:
        html = part.get_content().replace("\r\n", "\n")
lines = raw.split(b"\r\n")
to = msg["To"]
frm = msg["From"]
print(json.dumps({
    "defects": defects,
    "headers": {k: str(v) for k, v in msg.items()},
    "from_display": frm.addresses[0].display_name if frm else None,
    "to_display": to.addresses[0].display_name if to else None,
    "to_addresses": [a.addr_spec for a in to.addresses] if to else [],
    "subject": str(msg["Subject"]) if msg["Subject"] is not None else None,
    "text": text, "html": html, "attachments": attachments,
    "content_type": msg.get_content_type(),
    "longest_line": max(len(l) for l in lines),
    "bare_line_feeds": raw.replace(b"\r\n", b"").count(b"\n"),
}))
"""#

    public static func parse(_ message: [UInt8]) throws -> Parsed {
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script], input: Data(message))
        guard result.status == 0 else { throw TestSupportError("python email failed: \(result.stderr)") }
        do {
            return try JSONDecoder().decode(Parsed.self, from: Data(result.stdout.utf8))
        } catch {
            throw TestSupportError("python email printed what is not JSON (\(error)): \(result.stdout.prefix(300)) \(result.stderr.prefix(300))")
        }
    }

    /// One attachment as Python's `email` decodes it.
    public struct Part: Decodable, Sendable, Equatable {
        public var filename: String
        public var text: String
    }

    static let partsScript = #"""
import email, json, sys
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
print(json.dumps([{"filename": p.get_filename(), "text": p.get_payload(decode=True).decode("utf-8", "replace")}
                  for p in msg.walk() if not p.is_multipart() and p.get_content_disposition() == "attachment"]))
"""#

    /// The attachments of a message (CRLF text, as a server received it), decoded.
    public static func parts(of message: String) throws -> [Part] {
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", partsScript], input: Data(message.utf8))
        guard result.status == 0 else { throw TestSupportError("python email failed: \(result.stderr)") }
        return try JSONDecoder().decode([Part].self, from: Data(result.stdout.utf8))
    }
}
