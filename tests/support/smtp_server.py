#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 (or --host, another loopback address) for the email sink's tests (tests/email.rs).

Built on aiosmtpd (Debian: python3-aiosmtpd). It speaks STARTTLS, TLS from the
first byte, or plain SMTP; optionally requires AUTH (PLAIN and/or LOGIN) with one
accepted username and password; and saves every message it accepts as a JSON file
in the output directory, so a test asserts on what a server really received:

    {"mail_from": ..., "rcpt_tos": [...], "data": <raw message>,
     "parsed": {"subject", "message_id", "date", "from", "to", "cc",
                "mime_version", "content_type", "charset",
                "content_transfer_encoding", "body"},   # decoded by Python's email package
     "helo": <the name the client gave in EHLO/HELO>,
     "auth": {"mechanism", "login"} or null, "tls": true/false}

Magic recipients exercise the sink's error handling: a local part of "defer" is
answered "451 4.3.0 try later", one of "nouser" "550 5.1.1 no such user".

It prints "READY" once it is listening. The asyncio server is created directly
(as aiosmtpd's Controller does internally) so there is no thread and no self-test
connection with a short timeout to fail on a busy machine.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def header(message, name):
    """A header decoded (RFC 2047 words and all), or None when absent."""
    value = message[name]
    return None if value is None else str(value)


class Handler:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "defer":
            return "451 4.3.0 try later"
        if local == "nouser":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # When the whole message was in (CLOCK_MONOTONIC, as the latency bench reads it).
        accepted = time.monotonic()
        raw = envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": raw.decode("utf-8", errors="replace"),
            "parsed": {
                "subject": header(parsed, "subject"),
                "message_id": header(parsed, "message-id"),
                "date": header(parsed, "date"),
                "from": header(parsed, "from"),
                "to": header(parsed, "to"),
                "cc": header(parsed, "cc"),
                "mime_version": header(parsed, "mime-version"),
                "content_type": parsed.get_content_type(),
                "charset": parsed.get_content_charset(),
                "content_transfer_encoding": header(parsed, "content-transfer-encoding"),
                "body": parsed.get_content(),
            },
            # After STARTTLS, the name from the EHLO sent over TLS.
            "helo": session.host_name,
            "auth": session.auth_data if session.authenticated else None,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "accepted_monotonic": accepted,
        }
        self.count += 1
        path = os.path.join(self.out_dir, f"message-{self.count:04}.json")
        # Write then rename, so a reader never sees half a file.
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        os.replace(path + ".tmp", path)
        return "250 2.0.0 message accepted"


def authenticator(username, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        if not ok:
            # handled=False makes aiosmtpd answer "535 5.7.8 Authentication credentials invalid".
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data={"mechanism": mechanism, "login": username})

    return check


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["starttls", "tls", "none"], required=True)
    p.add_argument("--cert", help="PEM certificate chain (starttls, tls)")
    p.add_argument("--key", help="PEM private key (starttls, tls)")
    p.add_argument("--auth", action="store_true", help="require AUTH")
    p.add_argument("--username", default="")
    p.add_argument("--password", default="")
    p.add_argument("--mechanisms", default="PLAIN,LOGIN", help="AUTH mechanisms to offer, e.g. LOGIN")
    p.add_argument("--out", required=True, help="directory for received messages")
    args = p.parse_args()

    context = None
    if args.mode != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    offered = {m.strip().upper() for m in args.mechanisms.split(",") if m.strip()}
    handler = Handler(args.out)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(
            handler,
            hostname="localhost",
            loop=loop,
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            auth_required=args.auth,
            # With implicit TLS aiosmtpd does not know the connection is encrypted;
            # with "none" the tests decide. Only STARTTLS needs the check.
            auth_require_tls=args.mode == "starttls",
            auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in offered],
            authenticator=authenticator(args.username, args.password),
        )

    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host=args.host,
            port=args.port,
            ssl=context if args.mode == "tls" else None,
        )
    )
    print("READY", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
