#!/usr/bin/python3
"""The original DaaS design, for the latency bench to compare daas against.

The first DaaS was a Python script: gpiozero's `when_pressed` callback (which fires on
the edge itself; its `bounce_time` only ignores the edges after it) posting to each
webhook in turn with `requests`, then sending the email with `smtplib`. This is that
script with the GPIO part replaced by stdin, so the bench can press it the way it
presses `daas run --simulate`: each line "press" runs the callback, after printing
"EDGE <CLOCK_MONOTONIC seconds>" (the edge the bench measures from).

    original.py --webhook URL (5 times) --smtp HOST:PORT --from ADDR --to ADDR

Needs Debian's python3-requests.
"""

import argparse
import smtplib
import sys
import time
from email.message import EmailMessage

import requests


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--webhook", action="append", required=True)
    p.add_argument("--smtp", required=True)
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--to", required=True)
    args = p.parse_args()
    host, port = args.smtp.rsplit(":", 1)

    def when_pressed():
        text = "Fresh doughnuts arrived. Come and get them."
        for url in args.webhook:
            requests.post(url, json={"text": text}, timeout=10)
        msg = EmailMessage()
        msg["Subject"] = "Doughnuts in the kitchen!"
        msg["From"] = args.sender
        msg["To"] = args.to
        msg.set_content(text)
        with smtplib.SMTP(host, int(port), timeout=10) as smtp:
            smtp.send_message(msg)

    print("READY", flush=True)
    for line in sys.stdin:
        if line.strip() == "press":
            # The edge, as the bench measures from it (gpiozero fires on the edge).
            print(f"EDGE {time.monotonic():.9f}", flush=True)
            when_pressed()
        elif line.strip() == "quit":
            break


if __name__ == "__main__":
    sys.exit(main())
