#!/usr/bin/python3
"""A scriptable SMTP server for Broadside's tests and demo (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1 on a port the system picks and prints "PORT <n>" as its first line.
Every message it accepts is appended as one JSON line to --record FILE:
{"mail_from", "rcpt_tos", "data", "reply", "at"}.

The recipient's local part chooses the behaviour, so one campaign can script many cases:
  reject-*        550 5.1.1 at RCPT (user unknown)
  full-*          552 5.2.2 at end of DATA (mailbox full)
  policy-*        550 5.7.1 at RCPT (the sender is refused: policy)
  defer-*         451 4.3.0 at RCPT, always
  flaky-*         451 4.3.0 at RCPT the first time, accepted afterwards
  throttle-*      421 4.7.0 at RCPT, and the connection is closed
  dropdata-*      the connection is dropped at the DATA command: the final "." is never sent
  dropreply-*     the message is received whole, then the connection is dropped without a reply
  slow-*          the reply to DATA comes after --slow seconds
  weird-*         the message is received whole and answered "999 weird" (no SMTP verdict)
  stall-*         the message is received whole and never answered (the connection stays open)
  stallread-*     the server answers DATA with 354 and then stops reading (the upload blocks)
Anything else is accepted: 250 2.0.0 Ok: queued as <id>.

With --throttle-for SECONDS, every RCPT in the server's first SECONDS is answered 421 and
the connection closed, as a relay that throttles for a while. With --blocklisted, every
RCPT is refused 554 5.7.1 naming a blocklist, as a relay whose sending IP is listed.
"""
import argparse
import base64
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request

from aiosmtpd.smtp import SMTP, AuthResult


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, entry):
        if not self.file:
            return
        with self.lock:
            self.file.write(json.dumps(entry) + "\n")
            self.file.flush()


class Handler:
    def __init__(self, recorder, slow, throttle_until=0.0, blocklisted=False):
        self.recorder = recorder
        self.slow = slow
        self.throttle_until = throttle_until
        self.blocklisted = blocklisted
        self.ids = itertools.count(1)
        self.seen_flaky = set()

    @staticmethod
    def local(address):
        return address.split("@", 1)[0].lower()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = self.local(address)
        if self.blocklisted:
            return "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"
        if local.startswith("reject-"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table" % address
        if local.startswith("policy-"):
            return "550 5.7.1 <%s>: Sender address rejected: Access denied by policy" % address
        if local.startswith("defer-"):
            return "451 4.3.0 <%s>: Temporary lookup failure, try again later" % address
        if local.startswith("flaky-") and address not in self.seen_flaky:
            self.seen_flaky.add(address)
            return "451 4.3.0 <%s>: Temporary lookup failure, try again later" % address
        if local.startswith("throttle-") or time.time() < self.throttle_until:
            server.transport.write(b"421 4.7.0 Too many messages from your IP, slow down; closing connection\r\n")
            server.transport.close()
            return "421 4.7.0 closing"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        local = self.local(envelope.rcpt_tos[0]) if envelope.rcpt_tos else ""
        if local.startswith("full-"):
            return "552 5.2.2 <%s>: Mailbox full, over quota" % envelope.rcpt_tos[0]
        queue_id = "%X%06d" % (int(time.time()) & 0xFFFF, next(self.ids))
        reply = "250 2.0.0 Ok: queued as %s" % queue_id
        self.recorder.write({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "surrogateescape") if envelope.original_content else envelope.content.decode("utf-8", "surrogateescape"),
            "reply": reply,
            "at": time.time(),
        })
        if local.startswith("dropreply-"):
            server.transport.abort()
            return "250 never sent"
        if local.startswith("slow-"):
            await asyncio.sleep(self.slow)
        if local.startswith("weird-"):
            return "999 weird"
        if local.startswith("stall-"):
            await asyncio.sleep(3600)
        return reply


class ScriptedSMTP(SMTP):
    # XOAUTH2 tokens the server accepts: "TOKEN EXPIRY" lines in this file (the test's
    # authorization server writes them), read at each AUTH as an introspection would be;
    # or, with an introspection URL (RFC 7662, http://ID:SECRET@host/introspect), the
    # tokens the OAuth test server says are active.
    oauth_tokens = None
    introspection = None
    # Sign-ins accepted and refused, for the tests.
    signins = None

    @staticmethod
    def introspect(token):
        parts = urllib.parse.urlsplit(ScriptedSMTP.introspection)
        url = urllib.parse.urlunsplit((parts.scheme, "%s:%d" % (parts.hostname, parts.port), parts.path, "", ""))
        req = urllib.request.Request(url, data=urllib.parse.urlencode({"token": token}).encode())
        req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (parts.username, parts.password)).encode()).decode())
        with urllib.request.urlopen(req, timeout=10) as answer:
            return json.load(answer)

    async def auth_XOAUTH2(self, _, args):
        # The initial response comes base64 on the AUTH line, or (curl) after an empty challenge,
        # which challenge_auth hands back decoded.
        raw = base64.b64decode(args[1]) if len(args) > 1 else await self.challenge_auth("", encode_to_b64=False)
        try:
            fields = dict(part.split("=", 1) for part in raw.decode().split("\x01") if "=" in part)
            token = fields.get("auth", "").removeprefix("Bearer ").strip()
        except Exception:
            token = ""
        accepted = False
        if token and ScriptedSMTP.introspection:
            answer = await asyncio.get_running_loop().run_in_executor(None, ScriptedSMTP.introspect, token)
            # A user's token signs in only as that user; an application's (no username) as any mailbox.
            accepted = answer.get("active") is True and answer.get("username") in ("", None, fields.get("user"))
        elif token:
            valid = {}
            if ScriptedSMTP.oauth_tokens and os.path.exists(ScriptedSMTP.oauth_tokens):
                for line in open(ScriptedSMTP.oauth_tokens):
                    parts = line.split()
                    if len(parts) == 2:
                        valid[parts[0]] = float(parts[1])
            accepted = valid.get(token, 0) > time.time()
        if ScriptedSMTP.signins:
            with open(ScriptedSMTP.signins, "a") as log:
                log.write(json.dumps({"user": fields.get("user"), "accepted": accepted}) + "\n")
        if accepted:
            return AuthResult(success=True, handled=False, auth_data=fields.get("user"))
        # RFC 7628: an error challenge, the client's empty answer, then 535.
        await self.challenge_auth(json.dumps({"status": "401", "schemes": "Bearer", "scope": "https://outlook.office.com/SMTP.Send"}))
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication unsuccessful, the token has expired")

    async def smtp_DATA(self, arg):
        recipients = self.envelope.rcpt_tos if self.envelope else []
        if recipients and Handler.local(recipients[0]).startswith("dropdata-"):
            self.transport.abort()
            return
        if recipients and Handler.local(recipients[0]).startswith("stallread-"):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            self.transport.pause_reading()
            await asyncio.sleep(3600)
            return
        return await super().smtp_DATA(arg)


def exit_with_parent():
    """The parent holds our stdin open; when it goes (even killed), so do we."""
    def watch():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def main():
    # A parent may spawn us from a thread with signals blocked; take them back.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", help="append each accepted message as a JSON line to this file")
    parser.add_argument("--auth", help="require AUTH with USER:PASSWORD")
    parser.add_argument("--xoauth2-tokens", help="require AUTH XOAUTH2 with a token this file lists as valid (TOKEN EXPIRY lines)")
    parser.add_argument("--xoauth2-introspect", help="require AUTH XOAUTH2 with a token this RFC 7662 endpoint (http://ID:SECRET@host/path) says is active")
    parser.add_argument("--signins", help="append one JSON line per XOAUTH2 sign-in: user and whether it was accepted")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--slow", type=float, default=2.0)
    parser.add_argument("--throttle-for", type=float, default=0.0, help="answer every RCPT 421 for this many seconds after starting")
    parser.add_argument("--blocklisted", action="store_true", help="refuse every RCPT as from a sending IP on a blocklist")
    parser.add_argument("--no-smtputf8", action="store_true", help="do not offer SMTPUTF8 in EHLO")
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when standard input closes")
    args = parser.parse_args()
    if args.exit_with_parent:
        exit_with_parent()

    handler = Handler(Recorder(args.record), args.slow, time.time() + args.throttle_for, args.blocklisted)
    options = dict(hostname="broadside-test", ident="Broadside test SMTP", enable_SMTPUTF8=not args.no_smtputf8,
                   decode_data=False, data_size_limit=64 * 1024 * 1024)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=False)
    if args.xoauth2_tokens or args.xoauth2_introspect:
        ScriptedSMTP.oauth_tokens = args.xoauth2_tokens
        ScriptedSMTP.introspection = args.xoauth2_introspect
        ScriptedSMTP.signins = args.signins

        def refuse_passwords(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=False, handled=False)

        options.update(authenticator=refuse_passwords, auth_required=True, auth_require_tls=False)
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(lambda: ScriptedSMTP(handler, loop=loop, **options), "127.0.0.1", 0))
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
