#!/usr/bin/python3
"""Self-check of tests/support/postfix-server, run by hand (not part of the suite).

    tests/support/postfix-server start /tmp/pf 2587 cert.pem key.pem donuts@example.org secret
    tests/support/postfix-check.py --dir /tmp/pf --port 2587 --ca ca.pem \\
        --user donuts@example.org --password secret
    tests/support/postfix-server stop /tmp/pf

It talks to the strict Postfix on 127.0.0.1 with Python's smtplib and shows each
answer: a bare EHLO name is refused (504 5.5.2 ... need fully-qualified hostname),
AUTH is not offered before STARTTLS, relay without AUTH is denied, an envelope
address without <> is refused, bare <LF> line ends and undeclared 8-bit text are
refused; then, with EHLO kitchen-pi.lab.example.org, STARTTLS trusting the CA and
AUTH, it sends a UTF-8 plain-text message to lab@example.org, waits for the file
that lands in DIR/mail/lab/new/ and prints it. It exits non-zero if anything is not
as expected. Standard library only.
"""

import argparse
import email.message
import email.policy
import email.utils
import glob
import os
import smtplib
import ssl
import sys
import time

failures = []


def check(what, ok, detail):
    print(f"[{'ok' if ok else 'FAIL'}] {what}: {detail}")
    if not ok:
        failures.append(what)


def reply(code, msg):
    return f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"


def connect(args, show_banner=False):
    s = smtplib.SMTP(timeout=15)
    code, msg = s.connect("127.0.0.1", args.port)
    s._host = "127.0.0.1"  # as SMTP("127.0.0.1") sets it: STARTTLS checks the certificate against it
    if show_banner:
        print("banner:", reply(code, msg))
    return s


def tls_context(args):
    context = ssl.create_default_context(cafile=args.ca)
    return context


def secured(args, name="kitchen-pi.lab.example.org"):
    """A session after EHLO name, STARTTLS and EHLO again."""
    s = connect(args)
    code, msg = s.ehlo(name)
    if code != 250:
        raise RuntimeError(f"EHLO {name}: {reply(code, msg)}")
    s.starttls(context=tls_context(args))  # checked against 127.0.0.1 (IP SAN)
    s.ehlo(name)
    return s


def wait_for_delivery(args, header, value, seconds=15):
    """The file in DIR/mail/lab/new/ whose header equals value, and its bytes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in sorted(glob.glob(os.path.join(args.dir, "mail", "lab", "new", "*"))):
            with open(path, "rb") as f:
                data = f.read()
            parsed = email.message_from_bytes(data, policy=email.policy.default)
            if str(parsed.get(header, "")).strip() == value:
                return path, data
        time.sleep(0.2)
    return None, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="the instance directory given to postfix-server start")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True, help="CA certificate that signed the server's")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    # 1. A bare HELO name.
    s = connect(args, show_banner=True)
    code, msg = s.ehlo("kitchen-pi")
    check("EHLO kitchen-pi is refused", code == 504 and b"need fully-qualified hostname" in msg, reply(code, msg))
    code, msg = s.helo("kitchen-pi")
    check("HELO kitchen-pi is refused", code == 504, reply(code, msg))
    s.quit()

    # 2. Before STARTTLS: no AUTH offered. Without AUTH (in plain text, or over
    #    TLS when POSTFIX_SERVER_TLS_LEVEL=encrypt): relay and non-<> envelopes
    #    refused; bare <LF> and undeclared 8-bit text refused.
    s = connect(args)
    code, msg = s.ehlo("kitchen-pi.lab.example.org")
    check("EHLO kitchen-pi.lab.example.org is accepted", code == 250, reply(code, msg).replace("\n", " | "))
    check("STARTTLS is offered", s.has_extn("starttls"), "")
    check("AUTH is not offered before STARTTLS", not s.has_extn("auth"), "")
    code, msg = s.docmd("AUTH", "PLAIN AGRvbnV0cwBzZWNyZXQ=")
    check("AUTH before STARTTLS is refused", code >= 500, reply(code, msg))
    code, msg = s.mail("donuts@example.org")
    encrypt = code == 530
    if encrypt:
        print(f"(TLS required: MAIL FROM before STARTTLS: {reply(code, msg)}; the next checks run over TLS)")
        s.close()
        s = secured(args)
    else:
        s.rset()

    def unauthenticated():
        if encrypt:
            return secured(args)
        session = connect(args)
        session.ehlo("kitchen-pi.lab.example.org")
        return session

    code, msg = s.docmd("MAIL FROM:donuts@example.org")
    check("MAIL FROM without <> is refused (strict_rfc821_envelopes)", code >= 500, reply(code, msg))
    code, msg = s.mail("donuts@example.org")
    check("MAIL FROM:<donuts@example.org> is accepted", code == 250, reply(code, msg))
    code, msg = s.rcpt("someone@example.com")
    check("relay without AUTH is refused", code >= 500, reply(code, msg))
    code, msg = s.rcpt("nobody-here@example.org")
    check("unknown local user is refused", code >= 500, reply(code, msg))
    code, msg = s.rcpt("lab@example.org")
    check("RCPT TO:<lab@example.org> without AUTH is accepted", code == 250, reply(code, msg))
    code, msg = s.docmd("DATA")
    check("DATA", code == 354, reply(code, msg))
    s.sock.sendall(b"Subject: bare LF\nFrom: <donuts@example.org>\n\nline ended by LF only\r\n.\r\n")
    code, msg = s.getreply()
    check("bare <LF> in DATA is refused (smtpd_forbid_bare_newline = reject)", code >= 500, reply(code, msg))
    s.close()

    s = unauthenticated()
    raw = (
        "From: Donuts <donuts@example.org>\r\nTo: lab@example.org\r\n"
        "Subject: no MIME-Version\r\nDate: " + email.utils.formatdate() + "\r\n"
        "Message-ID: " + email.utils.make_msgid(domain="kitchen-pi.lab.example.org") + "\r\n"
        "\r\nDoughnuts ready \u2014 12 glazed\r\n"
    ).encode()
    try:
        s.sendmail("donuts@example.org", ["lab@example.org"], raw)
        check("8-bit body without MIME-Version is refused (strict_8bitmime)", False, "accepted")
    except smtplib.SMTPDataError as e:
        check("8-bit body without MIME-Version is refused (strict_8bitmime)", e.smtp_code >= 500, reply(e.smtp_code, e.smtp_error))
    s.close()

    s = unauthenticated()
    raw7 = raw.replace("\u2014".encode(), b"-").replace(b"Message-ID: <", b"Message-ID: <7bit.")
    try:
        s.sendmail("donuts@example.org", ["lab@example.org"], raw7)
        check("7-bit body without MIME-Version is accepted", True, "250")
    except smtplib.SMTPException as e:
        check("7-bit body without MIME-Version is accepted", False, repr(e))
    s.quit()

    # 3. STARTTLS, AUTH, a UTF-8 plain-text message to lab@example.org.
    s = secured(args)
    check("AUTH is offered after STARTTLS", s.has_extn("auth"), s.esmtp_features.get("auth", ""))
    try:
        s.login(args.user, "wrong-" + args.password)
        check("AUTH with a wrong password is refused", False, "accepted")
    except smtplib.SMTPAuthenticationError as e:
        check("AUTH with a wrong password is refused", True, reply(e.smtp_code, e.smtp_error))
    s.quit()

    s = secured(args)
    code, msg = s.login(args.user, args.password)
    check(f"AUTH as {args.user}", code == 235, reply(code, msg))
    message = email.message.EmailMessage()
    message["From"] = f"Doughnut button <{args.user}>"
    message["To"] = "Lab <lab@example.org>"
    message["Subject"] = "Doughnuts ready \u2014 12 glaz\u00e9s \U0001F369"
    message["Date"] = email.utils.formatdate()
    message_id = email.utils.make_msgid(domain="kitchen-pi.lab.example.org")
    message["Message-ID"] = message_id
    message.set_content("Fresh doughnuts in the kitchen \u2014 cr\u00e8me br\u00fbl\u00e9e \U0001F369\n", cte="8bit")
    data = message.as_bytes(policy=email.policy.SMTP)
    refused = s.sendmail(args.user, ["lab@example.org"], data, mail_options=["BODY=8BITMIME"])
    check("UTF-8 message to lab@example.org is accepted", not refused, repr(refused) if refused else "250")
    refused = s.sendmail(args.user, ["someone@example.com"], data, mail_options=["BODY=8BITMIME"])
    check("relay with AUTH is accepted (lands in DIR/mail/outbound.mbox)", not refused, "250")
    s.quit()

    # Postfix must not add missing headers (local_header_rewrite_clients is empty).
    s = secured(args)
    s.login(args.user, args.password)
    bare = f"From: <{args.user}>\r\nTo: <lab@example.org>\r\nSubject: no-date {message_id}\r\n\r\nno Date, no Message-ID\r\n"
    s.sendmail(args.user, ["lab@example.org"], bare.encode())
    s.quit()
    path, bare_delivered = wait_for_delivery(args, "Subject", "no-date " + message_id)
    if bare_delivered:
        parsed = email.message_from_bytes(bare_delivered, policy=email.policy.default)
        check("Postfix adds no Date or Message-ID", parsed["Date"] is None and parsed["Message-ID"] is None, f"Date: {parsed['Date']}, Message-ID: {parsed['Message-ID']}")
    else:
        check("message without Date/Message-ID delivered", False, "nothing within 15 s")

    path, delivered = wait_for_delivery(args, "Message-ID", message_id)
    check("delivered into DIR/mail/lab/new/", path is not None, path or "nothing within 15 s")
    if delivered:
        print(f"---- {path}")
        sys.stdout.write(delivered.decode("utf-8", errors="replace"))
        print("----")
        parsed = email.message_from_bytes(delivered, policy=email.policy.default)
        check("Subject decodes", str(parsed["Subject"]) == str(message["Subject"]), str(parsed["Subject"]))
        check("body decodes", "cr\u00e8me br\u00fbl\u00e9e" in parsed.get_content(), parsed.get_content().strip())
        received = parsed.get_all("Received", [])
        check("Received: ... with ESMTPSA, Authenticated sender", any("ESMTPSA" in r and "Authenticated sender" in r for r in received), " | ".join(" ".join(r.split()) for r in received))
        check("Return-Path and Delivered-To added", parsed["Return-Path"] is not None and parsed["Delivered-To"] is not None, f"{parsed['Return-Path']} / {parsed['Delivered-To']}")

    print()
    if failures:
        print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
