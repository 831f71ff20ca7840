import Addresses
import Foundation
import Messages
import Testing
import TestSupport
@testable import Signing

/// Every signature checked by an independent verifier: dkimpy (Debian python3-dkim),
/// given the public key through its DNS hook.
@Suite("DKIM")
struct DKIMTests {
    struct Key {
        let pem: String
        /// The p= value of the DNS record.
        let publicKey: String
        let kind: String
    }

    static func key(_ algorithm: String, in dir: TemporaryDirectory) throws -> Key {
        let path = dir.path("\(algorithm).pem")
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        let generate = algorithm == "rsa"
            ? ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path]
            : ["genpkey", "-algorithm", "ed25519", "-out", path]
        guard try Command.run(openssl, generate).status == 0 else { throw TestSupportError("openssl genpkey failed") }
        let der = dir.path("\(algorithm).pub.der")
        _ = try Command.run(openssl, ["pkey", "-in", path, "-pubout", "-outform", "DER", "-out", der])
        var publicKey = try Data(contentsOf: URL(fileURLWithPath: der))
        if algorithm == "ed25519" { publicKey = publicKey.suffix(32) }   // RFC 8463: the raw key
        return Key(pem: try String(contentsOfFile: path, encoding: .utf8), publicKey: publicKey.base64EncodedString(), kind: algorithm)
    }

    static func verify(_ message: [UInt8], key: Key) throws -> String {
        let script = """
            import dkim, sys
            msg = sys.stdin.buffer.read()
            record = ("v=DKIM1; k=%s; p=%s" % (sys.argv[1], sys.argv[2])).encode()
            print(dkim.verify(msg, dnsfunc=lambda name, timeout=5: record))
            """
        let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, key.kind, key.publicKey], input: Data(message))
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + result.stderr
    }

    static func message() throws -> [UInt8] {
        let content = MessageContent(
            from: try Mailbox(parsing: "示例新闻 <news@example.com>"), to: try Mailbox(parsing: "王磊 <wang@example.cn>"),
            subject: "您好 — your invoice for March is ready, with a subject long enough to be folded over two lines",
            headers: [HeaderField("List-Unsubscribe", "<https://example.com/u/abc>"), HeaderField("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")],
            text: "Dear 王磊,\n\n  trailing spaces   \nand  double  spaces.\n\n\n", html: "<p>Dear 王磊</p>",
            attachments: [Messages.Attachment(filename: "发票.pdf", contentType: "application/pdf", data: Array(repeating: 7, count: 3000))],
            messageID: "dkim.1@example.com", date: 1_795_000_000)
        return MessageComposer.compose(content)
    }

    @Test(arguments: ["rsa", "ed25519"])
    func signaturesVerifyWithDkimpy(algorithm: String) throws {
        let dir = try TemporaryDirectory()
        let key = try Self.key(algorithm, in: dir)
        let signer = try DKIMSigner(domain: "example.com", selector: "s2026", pem: key.pem)
        #expect(signer.algorithm == (algorithm == "rsa" ? .rsaSHA256 : .ed25519SHA256))
        let message = try Self.message()
        let signed = try signer.signatureHeader(for: message, time: 1_795_000_000) + message
        #expect(try Self.verify(signed, key: key) == "True")
        let header = String(decoding: try signer.signatureHeader(for: message, time: 1), as: UTF8.self)
        for name in ["from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post"] {
            #expect(header.contains(name), "h= covers \(name)")
        }
        #expect(header.split(separator: "\r\n").allSatisfy { $0.count <= 78 })
    }

    @Test func aChangedMessageNoLongerVerifies() throws {
        let dir = try TemporaryDirectory()
        let key = try Self.key("ed25519", in: dir)
        let signer = try DKIMSigner(domain: "example.com", selector: "s", pem: key.pem)
        let message = try Self.message()
        var tampered = try signer.signatureHeader(for: message, time: 1) + message
        if let index = tampered.firstIndex(of: UInt8(ascii: "D")) { tampered[tampered.index(index, offsetBy: 0)] = UInt8(ascii: "D") }
        let text = String(decoding: tampered, as: UTF8.self).replacing("Dear", with: "Deer")
        #expect(try Self.verify(Array(text.utf8), key: key) == "False")
    }

    @Test func refusesShortRSAKeysAndNonKeys() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("short.pem")
        _ = try Command.run(URL(fileURLWithPath: "/usr/bin/openssl"), ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", path])
        #expect(throws: DKIMSigner.KeyError.self) { _ = try DKIMSigner(domain: "e.com", selector: "s", pem: try String(contentsOfFile: path, encoding: .utf8)) }
        #expect(throws: DKIMSigner.KeyError.self) { _ = try DKIMSigner(domain: "e.com", selector: "s", pem: "not a key") }
    }
}
