"""The host's side of the virtual Pi's network: the servers its sinks reach.

The guest's sinks talk to 10.0.2.100:PORT; QEMU's guestfwd hands each connection to
a socat that connects to a fixed port on the host's loopback (machine.py). Behind
those ports run real servers, the same ones the other tests use:

- webhook receivers: the tests' own HTTP receiver (examples/receiver.rs), healthy or
  hanging, logging one line per request (tests/util/receiver/soak.rs) and the body
  of each accepted request;
- an SMTP server: tests/support/smtp_server.py (aiosmtpd) with STARTTLS and AUTH,
  saving each accepted message as JSON.

A receiver can be stopped and another started on the same port while the guest
runs (the guestfwd port stays), which is how a suite makes a sink hang, fail and
recover without touching the guest.
"""

import glob
import json
import os
import subprocess
import time

from .machine import die_with_parent, free_loopback_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Receiver:
    """One webhook receiver port on the host; `serve(mode)` (re)starts a receiver on it."""

    def __init__(self, name, workdir, receiver_bin):
        self.name = name
        self.port = free_loopback_port()
        self.log = os.path.join(workdir, f"{name}.log")
        self.bodies = os.path.join(workdir, f"{name}.bodies")
        self.stderr = os.path.join(workdir, f"{name}.stderr")
        self.bin = receiver_bin
        self.proc = None
        self.mode = None

    def serve(self, mode):
        """Stops the receiver on the port, if any, and starts one that is `mode`
        (healthy or hanging: it holds every request for 10 minutes)."""
        self.stop()
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(
                [self.bin, str(self.port), mode, self.name, self.log, "--hang-s", "600", "--bodies", self.bodies],
                stdout=subprocess.PIPE,
                stderr=err,
                preexec_fn=die_with_parent,
            )
        line = self.proc.stdout.readline().decode().split()
        if line[:1] != ["READY"]:
            raise RuntimeError(f"receiver {self.name} did not start on port {self.port}; see {self.stderr}")
        self.mode = mode

    def stop(self):
        _stop(self.proc)
        self.proc = None
        self.mode = "down"

    def requests(self):
        """Every request logged: dicts with wall, arrived, answered (CLOCK_MONOTONIC
        seconds), id and outcome."""
        if not os.path.exists(self.log):
            return []
        rows = []
        with open(self.log, encoding="utf-8") as f:
            for line in f:
                wall, arrived, answered, ident, outcome = line.rstrip("\n").split("\t")
                rows.append(
                    {"wall": wall, "arrived": float(arrived), "answered": float(answered), "id": ident, "outcome": outcome}
                )
        return rows

    def receipts(self, ident=None):
        """Accepted requests (answered 200), of one announcement or all."""
        return [r for r in self.requests() if r["outcome"] == "accepted" and ident in (None, r["id"])]

    def accepted_bodies(self):
        """The JSON bodies of accepted requests, in order."""
        if not os.path.exists(self.bodies):
            return []
        with open(self.bodies, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


class SmtpServer:
    """A real SMTP server (aiosmtpd) with STARTTLS and AUTH on a host loopback port."""

    def __init__(self, workdir, username, password):
        self.port = free_loopback_port()
        self.workdir = workdir
        self.out = os.path.join(workdir, "mail")
        os.makedirs(self.out, exist_ok=True)
        self.cert = os.path.join(workdir, "smtp-cert.pem")
        self.key = os.path.join(workdir, "smtp-key.pem")
        self.username = username
        self.password = password
        self.stderr = os.path.join(workdir, "smtp.stderr")
        self.proc = None

    def make_certificate(self, ip):
        """A CA and a certificate it signs for `ip` (the address the guest dials); the
        guest's email sink trusts the CA through its ca_file. Returns the CA's path."""
        ca_key, ca = os.path.join(self.workdir, "smtp-ca-key.pem"), os.path.join(self.workdir, "smtp-ca.pem")
        csr, ext = os.path.join(self.workdir, "smtp.csr"), os.path.join(self.workdir, "smtp.ext")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
        openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=virtual-pi test CA")
        openssl("req", "-new", *ec, "-keyout", self.key, "-out", csr, "-subj", "/CN=virtual-pi-smtp")
        with open(ext, "w", encoding="utf-8") as f:
            f.write(f"subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", self.cert,
                "-days", "2", "-extfile", ext)
        self.ca = ca
        return ca

    def start(self):
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(
                [os.path.join(ROOT, "tests", "support", "smtp_server.py"), "--port", str(self.port),
                 "--mode", "starttls", "--cert", self.cert, "--key", self.key, "--auth",
                 "--username", self.username, "--password", self.password, "--out", self.out],
                stdout=subprocess.PIPE, stderr=err, preexec_fn=die_with_parent,
            )
        if self.proc.stdout.readline().decode().strip() != "READY":
            raise RuntimeError(f"the SMTP server did not start; see {self.stderr}")

    def stop(self):
        _stop(self.proc)
        self.proc = None

    def messages(self):
        """Every accepted message: the server's JSON records, each with `id` (the
        announcement, from the Message-ID `<ID@daas.DEVICE>`) added."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.out, "message-*.json"))):
            with open(path, encoding="utf-8") as f:
                record = json.load(f)
            message_id = (record["parsed"]["message_id"] or "").strip("<>")
            record["id"] = message_id.split("@", 1)[0]
            out.append(record)
        return out

    def receipts(self, ident=None):
        return [m for m in self.messages() if ident in (None, m["id"])]


def wait_until(what, condition, timeout_s, every_s=0.2):
    """Polls `condition` (the host side of a test, never the daemon) until it is true;
    raises with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every_s)
