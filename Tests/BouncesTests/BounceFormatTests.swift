import Testing
@testable import Bounces

/// Bounce formats and pitfalls seen in real bounces from many MTAs, each as a fixture the
/// project wrote itself (no corpus file is copied): only the report's own recipients count,
/// addresses come out clean, every spelling of an Action is understood, a rewritten
/// recipient keeps its original address, and vendors that name the recipient only in free
/// text are read.
@Suite("Bounce formats")
struct BounceFormatTests {
    struct Expected: CustomStringConvertible {
        var recipient: String
        var kind: BounceReport.Kind
        var hard: Bool
        var reason: String
        var description: String { "\(recipient) \(kind.rawValue) hard=\(hard) \(reason)" }
    }

    static func parse(_ text: String) -> [BounceReport] {
        BounceParser.parse(Array(text.replacing("\n", with: "\r\n").utf8))
    }

    static func check(_ text: String, _ expected: [Expected], sourceLocation: SourceLocation = #_sourceLocation) {
        let reports = parse(text)
        let got = reports.map { Expected(recipient: $0.recipient ?? "-", kind: $0.kind, hard: $0.hard, reason: $0.reason.rawValue).description }
        #expect(got == expected.map(\.description), sourceLocation: sourceLocation)
    }

    static func dsn(subject: String = "Delivery Status Notification (Failure)", text: String, groups: [String]) -> String {
        """
        From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
        To: bounces@example.org
        Subject: \(subject)
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B"

        --B
        Content-Type: text/plain

        \(text)

        --B
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.com

        \(groups.joined(separator: "\n\n"))

        --B
        Content-Type: text/rfc822-headers

        From: The Newsletter <news@example.org>
        To: someone@example.net
        Subject: November news
        Message-ID: <n1@example.org>

        --B--
        """
    }

    // MARK: only the report's own recipients

    @Test func addressesOfTheReturnedOriginalAreNotRecipients() {
        // qmail's notice, then the original's headers (a mailing list's) and a quoted body,
        // with no marker this parser knew before.
        Self.check("""
            From: MAILER-DAEMON@mx.example.com
            To: news-bounces@lists.example.org
            Subject: failure notice

            Hi. This is the qmail-send program at mx.example.com.
            I'm afraid I wasn't able to deliver your message to the following addresses.
            This is a permanent error; I've given up. Sorry it didn't work out.

            <ana@example.net>:
            192.0.2.7 does not like recipient.
            Remote host said: 550 5.1.1 <ana@example.net>: Recipient address rejected: User unknown in local recipient table
            Giving up on 192.0.2.7.

            --- Enclosed are the original headers of the message.

            Return-Path: <news-bounces@lists.example.org>
            Sender: owner-news@lists.example.org
            Errors-To: errors@lists.example.org
            List-Unsubscribe: <mailto:leave-news@lists.example.org>
            List-Post: <mailto:news@lists.example.org>
            From: The Newsletter <news@example.org>
            Reply-To: editor@example.org
            To: ana@example.net
            Subject: November news

            > Questions? Write to help@example.org
            """, [Expected(recipient: "ana@example.net", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func aQuotedOriginalWithoutAnyMarkerIsNotReadForRecipients() {
        Self.check("""
            From: postmaster@mail.example.net
            To: news@example.org
            Subject: Undeliverable: November news

            Your message could not be delivered to bob@example.net: 550 5.1.1 user unknown (in reply to RCPT TO command)

            Received: from out.example.org (out.example.org [192.0.2.1]) by mail.example.net
            From: news@example.org
            Sender: owner-news@lists.example.org
            To: bob@example.net
            Subject: November news

            > Reply to editor@example.org with your questions.
            """, [Expected(recipient: "bob@example.net", kind: .failure, hard: true, reason: "userunknown")])
    }

    // MARK: clean addresses

    @Test func prefixesAndStrayQuotesAreTakenOffAddresses() {
        let text = Self.dsn(text: "Delivery to the following recipients failed.", groups: [
            "Final-Recipient: rfc822; smtp=ben@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown",
            "Final-Recipient: rfc822;SMTP:carl@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown",
            "Final-Recipient: rfc822; 'dora@example.net'\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown",
            "Final-Recipient: rfc822; \"eli@example.net\"\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown",
        ])
        Self.check(text, ["ben", "carl", "dora", "eli"].map { Expected(recipient: "\($0)@example.net", kind: .failure, hard: true, reason: "userunknown") })
        // A real local part with an equals sign or an apostrophe is kept whole.
        #expect(Address.all(in: "<bounce+x=y@example.org> o'neil@example.ie") == ["bounce+x=y@example.org", "o'neil@example.ie"])
    }

    // MARK: every spelling of an Action

    @Test func actionsAreNormalisedAndADelayIsNeverAFailure() {
        let failed = ["failure", "error", "failed (bad destination mailbox address)", "Failed"]
        let delayed = ["delayed", "delivery delayed", "Delayed (will keep trying)"]
        let groups = (failed + delayed).enumerated().map { index, action in
            "Final-Recipient: rfc822; r\(index)@example.net\nAction: \(action)\nStatus: \(index < failed.count ? "5.1.1" : "4.4.1")\nDiagnostic-Code: smtp; \(index < failed.count ? "550 5.1.1 user unknown" : "421 4.4.1 connection timed out")"
        }
        let reports = Self.parse(Self.dsn(text: "Some recipients could not be reached.", groups: groups))
        #expect(reports.count == failed.count + delayed.count)
        for (index, report) in reports.enumerated() {
            if index < failed.count {
                #expect(report.kind == .failure && report.hard && report.action == "failed", "\(report)")
            } else {
                #expect(report.kind == .delay && !report.hard && report.action == "delayed", "\(report)")
            }
        }
    }

    @Test func aFreeTextDelayWarningIsADelay() {
        for words in ["We will keep trying to deliver it for 5 days.", "Your message has not yet been delivered. No action is required on your part."] {
            Self.check("""
                From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>
                To: news@example.org
                Subject: Delivery delayed: November news

                This is an automatically generated Delivery Status Notification.

                Delivery to the following recipient has been delayed:

                     fay@example.net

                Message will be retried. \(words)
                The server said: 451 4.4.1 temporary failure
                """, [Expected(recipient: "fay@example.net", kind: .delay, hard: false, reason: "expired")])
        }
    }

    @Test func aDSNWhoseActionSaysExpiredGaveUp() {
        Self.check(Self.dsn(text: "Delivery gave up.", groups: ["Final-Recipient: rfc822; gus@example.net\nAction: expired\nStatus: \nDiagnostic-Code: Connection timed out"]),
                   [Expected(recipient: "gus@example.net", kind: .failure, hard: false, reason: "expired")])
    }

    // MARK: a recipient rewritten on the way

    @Test func theOriginalRecipientIsKeptBesideARewrittenFinalOne() {
        let reports = Self.parse(Self.dsn(text: "Forwarded mailbox failed.", groups: [
            "Original-Recipient: rfc822;eve@example.org\nFinal-Recipient: rfc822; eve.smith@mail.example.net\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full",
            "Final-Recipient: rfc822; hal@example.net\nOriginal-Recipient: rfc822;hal@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown",
        ]))
        #expect(reports.map(\.recipient) == ["eve.smith@mail.example.net", "hal@example.net"])
        #expect(reports.map(\.originalRecipient) == ["eve@example.org", nil])
        #expect(reports.map(\.reason) == [.mailboxFull, .userUnknown])
    }

    @Test func recipientGroupsWithoutBlankLinesBetweenThemAreEachReported() {
        let text = Self.dsn(text: "Two recipients failed.", groups: [
            """
            Final-Recipient: rfc822; ida@example.jp
            Action: failed
            Status: 5.2.2
            Diagnostic-Code: smtp; 552 5.2.2 <ida@example.jp>... Mailbox Full
            Final-Recipient: rfc822; jon@example.jp
            Action: failed
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 <jon@example.jp>... User Unknown
            """])
        Self.check(text, [Expected(recipient: "ida@example.jp", kind: .failure, hard: false, reason: "mailboxfull"),
                          Expected(recipient: "jon@example.jp", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func anMboxSeparatorRightAfterABoundaryStartsTheNextMessage() {
        let first = "From MAILER-DAEMON  Thu Jul  2 12:05:05 2020\nFrom: a@example.com\nSubject: one\n\n--X--\n"
        let second = "From double-bounce@example.com  Thu Jul  2 12:05:06 2020\nFrom: b@example.com\nSubject: two\n\nbody\n"
        let messages = Mbox.split(Array((first + second).utf8)).map { MailMessage(bytes: $0).header("Subject") }
        #expect(messages == ["one", "two"])
        // A body line that merely starts with "From " is no separator.
        let one = "From a@b  Thu Jul  2 12:05:05 2020\nSubject: x\n\nhello\nFrom me to you\n"
        #expect(Mbox.split(Array(one.utf8)).count == 1)
    }

    // MARK: vendors that name the recipient only in free text

    @Test func exchangeNDR() {
        Self.check("""
            From: postmaster@contoso.example
            To: news@example.org
            Subject: Undeliverable: November news
            Content-Type: text/plain

            Delivery has failed to these recipients or groups:

            Frank Miller (frank@contoso.example)
            The email address you entered couldn't be found. Please check the recipient's email address and try to resend the message.

            Diagnostic information for administrators:

            Generating server: EX01.contoso.example

            frank@contoso.example
            #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##

            Original message headers:

            Received: from out.example.org (192.0.2.1) by EX01.contoso.example (15.1.2.3)
            From: The Newsletter <news@example.org>
            Reply-To: editor@example.org
            To: Frank Miller <frank@contoso.example>
            Subject: November news
            """, [Expected(recipient: "frank@contoso.example", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func groupWise() {
        Self.check("""
            From: postmaster@gw.example.com
            To: news@example.org
            Subject: Message status - undeliverable

            The message that you sent was undeliverable to the following:
                    gina@gw.example.com (user not found)

            Possible causes:
                    E-mail address might be spelled incorrectly.
                    Recipient may not be in the GroupWise directory.
            """, [Expected(recipient: "gina@gw.example.com", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func postfixWithoutADSN() {
        Self.check("""
            From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
            To: news@example.org
            Subject: Undelivered Mail Returned to Sender

            This is the mail system at host mail.example.org.

            I'm sorry to have to inform you that your message could not
            be delivered to one or more recipients.

                               The mail system

            <hank@example.net>: host mx.example.net[192.0.2.9] said: 552 5.2.2
                <hank@example.net>: Mailbox full (in reply to RCPT TO command)
            """, [Expected(recipient: "hank@example.net", kind: .failure, hard: false, reason: "mailboxfull")])
    }

    @Test func yahoo() {
        Self.check("""
            From: MAILER-DAEMON@yahoo.example
            To: news@example.org
            Subject: Failure Notice

            Sorry, we were unable to deliver your message to the following address.

            <ivy@example.jp>:
            Remote host said: 550 5.1.1 <ivy@example.jp>: Recipient address rejected: User unknown [RCPT_TO]

            --- Below this line is a copy of the message.

            From: news@example.org
            To: ivy@example.jp
            """, [Expected(recipient: "ivy@example.jp", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func aolSenderRefused() {
        Self.check("""
            From: Mail Delivery Subsystem <MAILER-DAEMON@aol.example>
            To: news@example.org
            Subject: Returned mail: see transcript for details

               ----- The following addresses had permanent fatal errors -----
            jack@example.com
                (reason: 554 5.7.1 Message blocked: IP address listed at spamhaus)

               ----- Original message -----
            From: news@example.org
            To: jack@example.com
            """, [Expected(recipient: "jack@example.com", kind: .failure, hard: false, reason: "blocked")])
    }

    @Test func lotusNotes() {
        // The returned message names an MTA version ("v4.6.5") that is not a status code.
        Self.check("""
            From: Postmaster@notes.example.co.jp
            To: news@example.org
            Subject: Undeliverable mail: November news

            ------- Failure Reasons  --------

            User kate not listed in public Name & Address Book
            kate@notes.example.co.jp

            ------- Returned Message --------
            Received: from mx.example.org ([192.0.2.1]) by notes (Lotus SMTP MTA v4.6.5) with SMTP id 0;
            From: news@example.org
            Reply-To: editor@example.org
            To: kate@notes.example.co.jp
            """, [Expected(recipient: "kate@notes.example.co.jp", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func oldSendmail() {
        Self.check("""
            From: Mail Delivery Subsystem <MAILER-DAEMON@old.example.edu>
            To: news@example.org
            Subject: Returned mail: User unknown

               ----- Transcript of session follows -----
            ... while talking to mail.example.edu.:
            >>> RCPT To:<liam@example.edu>
            <<< 550 <liam@example.edu>... User unknown
            550 <liam@example.edu>... User unknown

               ----- Unsent message follows -----
            Received: from out.example.org by old.example.edu (8.9.3/8.9.3)
            From: news@example.org
            Reply-To: editor@example.org
            To: liam@example.edu
            """, [Expected(recipient: "liam@example.edu", kind: .failure, hard: true, reason: "userunknown")])
    }

    @Test func qmailMailboxFull() {
        Self.check("""
            From: MAILER-DAEMON@qmail.example.net
            To: news@example.org
            Subject: failure notice

            Hi. This is the qmail-send program at qmail.example.net.
            I'm afraid I wasn't able to deliver your message to the following addresses.
            This is a permanent error; I've given up. Sorry it didn't work out.

            <mia@qmail.example.net>:
            The users mailfolder is over the allowed quota (size). (#5.2.2)

            --- Below this line is a copy of the message.

            From: news@example.org
            Reply-To: editor@example.org
            To: mia@qmail.example.net
            """, [Expected(recipient: "mia@qmail.example.net", kind: .failure, hard: false, reason: "mailboxfull")])
    }
}
