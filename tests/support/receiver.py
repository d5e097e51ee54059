#!/usr/bin/python3
"""A real HTTP receiver for the soak test (scripts/soak): webhook sinks POST to it.

Usage: receiver.py PORT MODE SEED LOG [--hang-s SECONDS]

Listens on 127.0.0.1:PORT (0 picks a free port) and prints "READY <port>" once it
listens. For each POST it reads the JSON body's "id" and answers by MODE:

- healthy: always 200;
- flaky: about 15% "500", 10% "429" with `Retry-After: 1`, 5% hang (hold the
  connection for --hang-s seconds, default 5, longer than the sink's timeout, then
  close it without answering), otherwise 200.

A flaky answer depends only on (SEED, id, how many times this id came before), so a
run with the same seed and the same arrivals answers the same way.

LOG gets one line per request, appended and flushed at once:

    WALL  ARRIVED  ANSWERED  ID  OUTCOME

WALL is UTC wall time for people; ARRIVED (the request was read) and ANSWERED (the
answer began to be written) are CLOCK_MONOTONIC seconds, the clock scripts/soak
stamps its SIGKILLs with. OUTCOME is "accepted" — written only after the 200 answer
was completely written and flushed to the socket, so only these lines are receipts —
or "refused 500", "refused 429", "hung", "bad-request" (no JSON id; answered 400), or
"broken" (the client went away before the answer was out: not a receipt).
"""

import argparse
import datetime
import http.server
import json
import os
import random
import signal
import sys
import threading
import time

MODES = ("healthy", "flaky")


class Receipts:
    """The log file and the per-id attempt counts, shared by the handler threads."""

    def __init__(self, path, mode, seed, hang_s):
        self.file = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.mode = mode
        self.seed = seed
        self.hang_s = hang_s
        self.seen = {}

    def decide(self, message_id):
        """The answer for this arrival of message_id: 200, 500, 429 or "hang"."""
        with self.lock:
            n = self.seen.get(message_id, 0)
            self.seen[message_id] = n + 1
        if self.mode == "healthy":
            return 200
        roll = random.Random(f"{self.seed}:{message_id}:{n}").random()
        if roll < 0.15:
            return 500
        if roll < 0.25:
            return 429
        if roll < 0.30:
            return "hang"
        return 200

    def log(self, arrived, answered, message_id, outcome):
        wall = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
        line = f"{wall}\t{arrived:.6f}\t{answered:.6f}\t{message_id}\t{outcome}\n"
        with self.lock:
            self.file.write(line)
            self.file.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receipts = None  # set in main()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        arrived = time.monotonic()
        try:
            message_id = str(json.loads(raw)["id"])
        except (ValueError, KeyError, TypeError):
            self.answer(400, arrived, "-", "bad-request")
            return
        decision = self.receipts.decide(message_id)
        if decision == "hang":
            self.receipts.log(arrived, time.monotonic(), message_id, "hung")
            time.sleep(self.receipts.hang_s)
            self.close_connection = True
            return
        outcome = "accepted" if decision == 200 else f"refused {decision}"
        self.answer(decision, arrived, message_id, outcome)

    def answer(self, status, arrived, message_id, outcome):
        body = b"ok" if status == 200 else f"soak receiver says {status}".encode()
        answered = time.monotonic()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.receipts.log(arrived, answered, message_id, "broken")
            self.close_connection = True
            return
        self.close_connection = True
        self.receipts.log(arrived, answered, message_id, outcome)

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # A client that disconnects early is normal here; anything else is worth a line.
        error = sys.exc_info()[1]
        if not isinstance(error, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            print(f"receiver: error serving {client_address}: {error!r}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("seed")
    parser.add_argument("log")
    parser.add_argument("--hang-s", type=float, default=5.0)
    args = parser.parse_args()

    Handler.receipts = Receipts(args.log, args.mode, args.seed, args.hang_s)
    server = Server(("127.0.0.1", args.port), Handler)
    # SIGTERM ends serve_forever cleanly; every log line is already flushed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        os._exit(0)


if __name__ == "__main__":
    main()
