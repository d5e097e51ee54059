#!/usr/bin/python3
"""Prints one delivered email (a Maildir file) as JSON, decoded by Python's email
package, for tests/postfix.rs: an independent decoder proves that what the sink sent
(RFC 2047 subject, MIME body) reads back as it was meant.

    parse_mail.py FILE  ->  {"headers": {lower-case name: [decoded value, ...]},
                             "content_type", "charset", "body"}
"""

import email
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        message = email.message_from_bytes(f.read(), policy=email.policy.default)
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    json.dump(
        {
            "headers": headers,
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "body": message.get_content(),
        },
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    sys.exit(main())
