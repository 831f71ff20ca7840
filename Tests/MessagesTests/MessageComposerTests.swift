import Addresses
import Testing
import TestSupport
@testable import Messages

private func mailbox(_ text: String) throws -> Mailbox { try Mailbox(parsing: text) }

@Suite("MIME composition")
struct MessageComposerTests {
    func content(subject: String = "Hello", text: String? = "Hi\n", html: String? = nil, attachments: [Messages.Attachment] = [],
                 from: String = "News <news@example.com>", to: String = "Ada Lovelace <ada@example.com>") throws -> MessageContent {
        MessageContent(from: try mailbox(from), to: try mailbox(to), subject: subject, text: text, html: html,
                       attachments: attachments, messageID: "abc.1@example.com", date: 1_795_000_000)
    }

    @Test func writesASinglePartTextMessageWithCRLFOnly() throws {
        let bytes = MessageComposer.compose(try content())
        let parsed = try PythonEmail.parse(bytes)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.bare_line_feeds == 0)
        #expect(parsed.content_type == "text/plain")
        #expect(parsed.headers["MIME-Version"] == "1.0")
        #expect(parsed.headers["Message-ID"] == "<abc.1@example.com>")
        #expect(parsed.headers["Date"] != nil)
        #expect(parsed.text == "Hi\n")
        #expect(parsed.to_addresses == ["ada@example.com"])
        #expect(parsed.headers["Bcc"] == nil)
    }

    @Test func roundTripsChineseAndEmojiInSubjectNamesAndBody() throws {
        let subject = "您好，王磊 — 您的发票 🧾 已准备好，请查收本月的账单详情以及附件中的说明文件"
        let body = "尊敬的王磊：\n\n感谢您的订阅。这是一封很长的中文邮件，用来确认 base64 编码和换行都正确。🎉\n"
        let bytes = MessageComposer.compose(try content(subject: subject, text: body, from: "示例新闻 <news@example.cn>", to: "王磊 <wang@example.cn>"))
        let parsed = try PythonEmail.parse(bytes)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.subject == subject)
        #expect(parsed.from_display == "示例新闻")
        #expect(parsed.to_display == "王磊")
        #expect(parsed.text == body)
        #expect(parsed.longest_line <= 78)
        let raw = String(decoding: bytes, as: UTF8.self)
        #expect(raw.contains("Content-Transfer-Encoding: base64"))
        for word in raw.split(whereSeparator: { $0 == " " || $0 == "\r\n" }) where word.hasPrefix("=?") {
            #expect(word.count <= 75, "encoded word \(word) is longer than 75")
        }
    }

    @Test func usesQuotedPrintableForMostlyASCIIAndKeepsLinesShort() throws {
        let body = "Dear Zoë, " + String(repeating: "this line is long and goes on ", count: 12) + "\n.starts with a dot\n"
        let bytes = MessageComposer.compose(try content(text: body))
        let raw = String(decoding: bytes, as: UTF8.self)
        #expect(raw.contains("Content-Transfer-Encoding: quoted-printable"))
        let parsed = try PythonEmail.parse(bytes)
        #expect(parsed.text == body)
        #expect(parsed.longest_line <= 78)
    }

    @Test func buildsAlternativeAndMixedOnlyWhenNeeded() throws {
        let pdf = Messages.Attachment(filename: "发票 März.pdf", contentType: "application/pdf", data: Array(0..<255))
        let bytes = MessageComposer.compose(try content(html: "<p>Hi</p>", attachments: [pdf]))
        let parsed = try PythonEmail.parse(bytes)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.content_type == "multipart/mixed")
        #expect(parsed.text == "Hi\n")
        #expect(parsed.html == "<p>Hi</p>\n")
        #expect(parsed.attachments == ["发票 März.pdf"])
        let alternative = try PythonEmail.parse(MessageComposer.compose(try content(html: "<p>Hi</p>")))
        #expect(alternative.content_type == "multipart/alternative")
    }

    @Test func asciiThatLooksLikeAnEncodedWordIsEncodedSoReadersShowItAsWritten() throws {
        let subject = "Try =?UTF-8?B?SGk=?= in your subject"
        let bytes = MessageComposer.compose(try content(subject: subject, from: "A =?x?= B <news@example.com>"))
        let parsed = try PythonEmail.parse(bytes)
        #expect(parsed.subject == subject)
        #expect(parsed.from_display == "A =?x?= B")
        #expect(HeaderEncoding.isPlainASCII("Price = 5? Yes") && !HeaderEncoding.isPlainASCII("a=?b") && !HeaderEncoding.isPlainASCII("é"))
    }

    @Test func aValueCannotAddAHeader() throws {
        let bytes = MessageComposer.compose(try content(subject: "Hi\r\nBcc: victim@example.com\nX-Evil: 1"))
        let parsed = try PythonEmail.parse(bytes)
        #expect(parsed.headers["Bcc"] == nil)
        #expect(parsed.headers["X-Evil"] == nil)
        #expect(parsed.subject == "Hi  Bcc: victim@example.com X-Evil: 1")
    }

    @Test func foldsLongHeadersAt78() throws {
        let subject = String(repeating: "word ", count: 40)
        let raw = String(decoding: MessageComposer.compose(try content(subject: subject)), as: UTF8.self)
        let headerLines = raw.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(headerLines.allSatisfy { $0.count <= 78 })
    }

    @Test func datesAreRFC5322() {
        #expect(MessageDate.format(secondsSince1970: 0) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MessageDate.format(secondsSince1970: 1_795_000_000) == "Wed, 18 Nov 2026 11:06:40 +0000")
        #expect(MessageDate.format(secondsSince1970: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 +0000")
    }

    @Test func plainTextAlternativeKeepsWordsAndLinks() {
        let text = PlainText.from(html: "<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><p><a href=\"https://x.example/u\">Unsubscribe</a></p></body></html>")
        #expect(text == "Hello & welcome\nUnsubscribe (https://x.example/u)\n")
    }
}
