"""The whole-device suite: the packaged firmware on an emulated arm64 Debian under
systemd, pressed through the kernel's GPIO, power-cut, restarted and rebooted.

Each check is one function, run in order on one disk (a qcow2 overlay over the cached
image): the state one leaves (the package installed, the config, the outbox) is the
next one's start, as on a real Pi. A check raises AssertionError with what it saw;
the suite goes on with the next unless the device is unusable, prints the unit's
journal for every failure, and ends with `virtual-pi: N passed, M failed`.
"""

import concurrent.futures
import os
import random
import re
import subprocess
import time
import traceback

from . import device
from .device import LATE_PORT, HOOK_PORT, SMTP_PORT, SINKS
from .machine import Machine
from .servers import Receiver, SmtpServer, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECURITY_MAX = 2.0
WATCHDOG_S = 30  # the unit's WatchdogSec
RESTART_MARGIN_S = 20  # RestartSec=5 s, the start, and a slow emulated CPU
# The outbox writer gathers 10 ms, then commits with one fsync: a write and fsync of a
# small file took 70-95 ms in the emulated arm64 guest. A press first sent longer than
# this before a cut must be committed.
COMMIT_WINDOW_S = 0.25


def say(message):
    print(message, flush=True)


class Stop(Exception):
    """The device cannot go on: the remaining checks are counted as failed."""


class Suite:
    def __init__(self, image, workdir, debs, receiver_bin, cuts, seed, armhf=None):
        """armhf: (image, deb) for the armhf smoke check, or None to skip it."""
        self.armhf = armhf
        self.image = image
        self.workdir = workdir
        self.deb, self.newer_deb = debs
        self.cuts = cuts
        self.rng = random.Random(seed)
        self.seed = seed
        self.hook = Receiver("hook", workdir, receiver_bin)
        self.late = Receiver("late-hook", workdir, receiver_bin)
        self.smtp = SmtpServer(workdir, device.SMTP_USER, device.SMTP_PASSWORD)
        self.machine = None
        self.figures = []  # (what, value) for the summary
        self.passed = 0
        self.failed = []

    # ---- the machine ------------------------------------------------------------

    def boot(self, rtc_base=None):
        """Boots the device from its disk; returns seconds to ssh."""
        self.machine = Machine(
            self.image,
            self.workdir,
            rtc_base=rtc_base,
            guest_forwards={HOOK_PORT: self.hook.port, LATE_PORT: self.late.port, SMTP_PORT: self.smtp.port},
        )
        self.machine.boot()
        return self.machine.wait_for_ssh(180)

    def wait_active(self, timeout_s=60):
        wait_until("daas active", lambda: device.is_active(self.machine), timeout_s, every_s=1)

    # ---- running --------------------------------------------------------------

    def run(self, only=None):
        self.hook.serve("healthy")
        self.late.serve("healthy")
        self.smtp.make_certificate(device.GUEST_HOST)
        self.smtp.start()
        checks = [
            ("the package installs, upgrades, removes and purges (package-test in the guest)", self.package_test),
            ("scripts/deploy installs the package over ssh; the wrong architecture is refused", self.deploy),
            ("the service starts under the hardened unit and opens the GPIO chip", self.started_hardened),
            ("start-up waits for udev to hand the chip to group gpio, without a failed start", self.waits_for_udev),
            ("a press through the kernel's GPIO reaches every sink", self.press_reaches_every_sink),
            ("the feedback LED on a PL061 output line: the sending blink, then the delivered flash", self.led_after_a_press),
            ("the watchdog restarts a stuck daemon, pending deliveries resume; a crash restarts it", self.watchdog),
            (f"{self.cuts} power cuts after a press: none lost, at most one duplicate per sink per cut", self.power_cuts),
            ("a boot 10 h behind without NTP: the press is sent at once, its real time once the clock is set", self.clock_behind),
            ("an upgrade keeps the edited config and the outbox; remove keeps them; purge removes them", self.upgrade_remove_purge),
        ]
        if self.armhf:
            checks.append(("armhf: the armhf package on qemu-system-arm (Debian's armmp kernel) delivers a press", self.armhf_press))
        try:
            say(f"== boot the virtual Pi ({self.image.arch})")
            self.figures.append(("boot to ssh", f"{self.boot():.1f} s"))
            stopped = None
            for name, check in checks:
                if only and not any(word in check.__name__ for word in only):
                    continue
                if stopped:
                    self.fail(name, stopped, journal=False)
                    continue
                say(f"== {name}")
                started = time.monotonic()
                try:
                    check()
                    self.passed += 1
                    say(f"   ok ({time.monotonic() - started:.0f} s)")
                except Stop as e:
                    stopped = f"not run: {e}"
                    self.fail(name, str(e))
                except Exception as e:  # noqa: BLE001 — every failure is reported, then the next check runs
                    self.fail(name, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
        finally:
            if self.machine:
                self.machine.cut()
            for server in (self.hook, self.late, self.smtp):
                server.stop()
        say("")
        for what, value in self.figures:
            say(f"   {what}: {value}")
        for name in self.failed:
            say(f"   FAILED: {name}")
        say(f"virtual-pi: {self.passed} passed, {len(self.failed)} failed")
        return not self.failed

    def fail(self, name, why, journal=True):
        self.failed.append(name)
        say(f"   FAIL: {why}")
        if journal and self.machine:
            try:
                say("   --- journalctl -u daas -b (the guest) ---")
                say(device.journal(self.machine))
            except Exception as e:  # noqa: BLE001 — the guest may be down
                say(f"   (the guest's journal is not readable: {e})")

    # ---- 6. the package -----------------------------------------------------------

    def package_test(self):
        m = self.machine
        m.copy_to(os.path.join(ROOT, "scripts", "package-test"), "/root/package-test")
        m.copy_to(self.deb, "/root/daas-old.deb")
        m.copy_to(self.newer_deb, "/root/daas-new.deb")
        result = m.ssh("bash /root/package-test /root/daas-old.deb /root/daas-new.deb 2>&1", check=False, timeout_s=600)
        say(indent(device.out(result)))
        assert result.returncode == 0, "package-test failed in the guest (above)"
        m.ssh("rm -f /root/daas-old.deb /root/daas-new.deb /root/package-test")

    def deploy(self):
        """scripts/deploy as a lab admin runs it: to a fresh Pi, where the packaged
        config (a real Pi's pins) cannot start on this board and deploy says so; then,
        with the lab's config and secrets in place, again: installed and running."""
        m = self.machine
        wrong = self.run_deploy("armv7")
        assert wrong.returncode != 0, f"deploying the armv7 package to the arm64 guest succeeded:\n{wrong.stdout}"
        assert "refusing to deploy: root@127.0.0.1 is arm64" in wrong.stdout, wrong.stdout
        first = self.run_deploy("aarch64")
        state = device.out(m.ssh("dpkg-query -W -f='${db:Status-Status} ${Version}' daas", check=False)).strip()
        if not state.startswith("installed "):
            say(indent(first.stdout))
            raise Stop(f"scripts/deploy did not install the package (dpkg: {state!r}); nothing else can run")
        assert first.returncode != 0 and "is installed on root@127.0.0.1 but did not restart" in first.stdout, (
            f"with the packaged config (rppal, a real Pi's pins) deploy should say it did not start:\n{first.stdout}")
        assert device.out(m.ssh("systemctl is-enabled daas")).strip() == "enabled"
        device.configure(m, self.smtp.ca)
        self.wait_active()
        again = self.run_deploy("aarch64")
        say(indent(again.stdout))
        assert again.returncode == 0, f"deploy to the configured guest exited {again.returncode}"
        assert "is installed and running on root@127.0.0.1" in again.stdout
        assert device.out(m.ssh("grep -c gpiocdev /etc/daas/config.toml")).strip() == "1", "deploy replaced the lab's config"
        self.wait_active()
        self.figures.append(("deployed", state))

    def run_deploy(self, target):
        m = self.machine
        argv = [os.path.join(ROOT, "scripts", "deploy"), "root@127.0.0.1", "--target", target,
                *m.deploy_args(), "-o", "ConnectTimeout=20"]
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)

    # ---- 1. the hardened unit -----------------------------------------------------

    def started_hardened(self):
        m = self.machine
        self.wait_active()
        assert device.restarts(m) == 0, f"daas was restarted {device.restarts(m)} times since it was configured"
        assert device.show(m, "Type") == "notify"
        pid = device.main_pid(m)
        user = device.out(m.ssh(f"ps -o user= -p {pid}")).strip()
        assert user == "daas", f"the daemon runs as {user}"
        fds = device.out(m.ssh(f"ls -l /proc/{pid}/fd"))
        assert "gpio-line" in fds or "/dev/gpiochip0" in fds, f"the daemon holds no GPIO line or chip:\n{fds}"
        security = device.out(m.ssh("systemd-analyze security daas --no-pager 2>&1"))
        found = re.search(r"Overall exposure level for daas\.service:\s*([0-9.]+)", security)
        assert found, security[-2000:]
        level = float(found.group(1))
        self.figures.append(("systemd-analyze security daas (in the guest)", f"{level}"))
        assert level <= SECURITY_MAX, f"exposure {level} > {SECURITY_MAX}:\n{security}"

    def waits_for_udev(self):
        """The boot race, made certain: the chip is root's when daas starts, as before
        udev's rule ran; udev then gives it to group gpio. daas must wait, not fail."""
        m = self.machine
        before = device.restarts(m)
        m.ssh("systemctl stop daas && chgrp root /dev/gpiochip0 && chmod 0600 /dev/gpiochip0")
        m.ssh("systemctl start --no-block daas")
        time.sleep(3)
        m.ssh("udevadm trigger --action=add --subsystem-match=gpio && udevadm settle")
        self.wait_active(60)
        log = device.journal(m, lines=50)
        assert "waiting up to" in log and "usable after" in log, f"no wait was logged:\n{log}"
        assert device.restarts(m) == before, "daas failed and was restarted instead of waiting"
        assert device.show(m, "Result") == "success"

    # ---- 2. a press ---------------------------------------------------------------

    def press(self):
        """A press; returns (host monotonic time of the press, the announcement id)."""
        before = {r["id"] for r in self.hook.receipts()}
        pressed = self.machine.press()
        receipt = wait_until("the press at the webhook receiver", lambda: [r for r in self.hook.receipts() if r["id"] not in before], 60)
        return pressed, receipt[0]["id"]

    def press_reaches_every_sink(self):
        pressed, ident = self.press()
        late = wait_until("late-hook", lambda: self.late.receipts(ident), 60)
        mail = wait_until("the email", lambda: self.smtp.receipts(ident), 60)
        hook = self.hook.receipts(ident)
        timings = {
            "hook": hook[0]["arrived"] - pressed,
            "late-hook": late[0]["arrived"] - pressed,
            "mail": mail[0]["accepted_monotonic"] - pressed,
        }
        self.figures.append(("system_powerdown → receipt", ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items())))
        assert mail[0]["parsed"]["subject"] == "Doughnuts in the virtual Pi!", mail[0]["parsed"]
        assert mail[0]["tls"] and mail[0]["auth"], "the email came without TLS or AUTH"
        for sink, n in (("hook", len(hook)), ("late-hook", len(late)), ("mail", len(mail))):
            assert n == 1, f"{sink} got the press {n} times"

    def led_after_a_press(self):
        """The LED line as the guest's kernel has it, sampled in the guest while a press
        is sent: lit at once (sending), then the delivered flash — dark 200 ms, lit
        2 s — then dark (no arm switch)."""
        time.sleep(3)  # the flash of an earlier check's press is over
        sampler = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            changes = sampler.submit(device.led_changes, self.machine, 8)
            time.sleep(3)  # the sampler's ssh login, under TCG
            self.press()
            changes = changes.result(timeout=120)
        finally:
            sampler.shutdown(wait=False)
        shown = " ".join(f"{t:.2f}:{'on' if on else 'off'}" for t, on in changes)
        assert changes and not changes[0][1], f"the LED was not dark before the press: {shown}"
        # Segments: (state, length) between changes; the last one runs to the end.
        lengths = [(on, later - t) for (t, on), (later, _) in zip(changes, changes[1:])]
        flash = next((i for i, (on, length) in enumerate(lengths) if on and 1.8 <= length <= 2.3), None)
        assert flash is not None, f"no delivered flash (about 2 s lit): {shown}"
        assert flash >= 2 and not lengths[flash - 1][0] and 0.1 <= lengths[flash - 1][1] <= 0.45, \
            f"the flash is not framed by ~200 ms of dark after the sending blink: {shown}"
        assert not changes[-1][1], f"the LED did not go dark after the flash: {shown}"
        sending = changes[flash - 1][0] - changes[1][0]
        self.figures.append(("LED (read in the guest)", f"sending blink {sending * 1000:.0f} ms, "
                             f"then dark {lengths[flash - 1][1] * 1000:.0f} ms, lit {lengths[flash][1]:.2f} s, dark"))

    # ---- 4. the watchdog ----------------------------------------------------------

    def watchdog(self):
        m = self.machine
        self.late.stop()  # late-hook's deliveries now fail and are retried
        pressed, ident = self.press()
        stuck_pid = device.main_pid(m)
        restarts = device.restarts(m)
        m.ssh(f"kill -STOP {stuck_pid}")
        stopped = time.monotonic()
        wait_until("a new daemon after the watchdog", lambda: device.main_pid(m) not in (0, stuck_pid), WATCHDOG_S + RESTART_MARGIN_S, every_s=1)
        self.figures.append(("SIGSTOP → restarted by the watchdog", f"{time.monotonic() - stopped:.0f} s (WatchdogSec={WATCHDOG_S})"))
        assert device.restarts(m) == restarts + 1
        self.wait_active()
        self.late.serve("healthy")
        wait_until("the pending delivery after the restart", lambda: self.late.receipts(ident), 60)
        crashed_pid = device.main_pid(m)
        m.ssh(f"kill -SEGV {crashed_pid}")
        wait_until("a new daemon after SIGSEGV", lambda: device.main_pid(m) not in (0, crashed_pid), 5 + RESTART_MARGIN_S, every_s=1)
        self.wait_active()
        assert device.restarts(m) == restarts + 2

    # ---- 3. power cuts ------------------------------------------------------------

    def power_cuts(self):
        """DESIGN.md's rule: an announcement is accepted when its commit is durable, and
        the first sends start in parallel with that commit (a crash before it can only
        have delivered more, never less). So after each cut and boot, every press the
        outbox holds must reach every sink, at most twice (one duplicate per cut); one
        the outbox does not hold may have reached some sinks only if the cut came within
        COMMIT_WINDOW_S of its first receipt — later, its commit was not durable (no
        fsync), and that is a loss."""
        lost, duplicates, uncommitted, not_pressed = [], [], [], 0
        for cut in range(1, self.cuts + 1):
            self.late.serve("hanging")
            self.wait_active()
            known = self.everything_received()
            pressed = self.machine.press()
            # A random instant in 0–500 ms, stratified: cut k falls in the k-th of
            # `cuts` equal slices, so every part of the range is tried in every run,
            # the late part too, where a commit that was not made durable is caught.
            delay = self.rng.uniform(cut - 1, cut) * 0.5 / self.cuts
            time.sleep(max(0.0, pressed + delay - time.monotonic()))
            self.machine.cut()
            cut_at = time.monotonic()
            self.late.serve("healthy")
            self.boot()
            self.check_filesystem_and_outbox()
            in_outbox = {a["id"] for a in device.status(self.machine)["announcements"]}
            # Once the outbox has nothing pending, everything it held has been sent:
            # a press no sink has seen by then never reached the outbox (nor a sink).
            wait_until("the outbox drained", lambda: device.status(self.machine)["pending"]["count"] == 0, 60, every_s=1)
            ids = self.everything_received() - known
            if not ids:
                not_pressed += 1
                say(f"   cut {cut}: {delay * 1000:.0f} ms after the press, before it was accepted: no sink ever got it")
                continue
            for ident in sorted(ids):
                first = min(self.arrivals(ident))
                if ident not in in_outbox:
                    before_cut = cut_at - first
                    got = [sink for sink in SINKS if self.arrivals(ident, sink)]
                    if before_cut > COMMIT_WINDOW_S:
                        lost.append((cut, ident, f"reached {got} {before_cut * 1000:.0f} ms before the cut, not in the outbox"))
                    else:
                        uncommitted.append(cut)
                        say(f"   cut {cut}: {delay * 1000:.0f} ms after the press, {before_cut * 1000:.0f} ms after its "
                            f"first send: not committed yet; reached {got} only (allowed: delivered more, never less)")
                    continue
                try:
                    wait_until(f"{ident} at every sink", lambda: all(self.receipts(s, ident) for s in SINKS), 60)
                except AssertionError:
                    lost.append((cut, ident, {s: len(self.receipts(s, ident)) for s in SINKS}))
                counts = {s: len(self.receipts(s, ident)) for s in SINKS}
                duplicates += [(cut, ident, s, n) for s, n in counts.items() if n > 2]
                say(f"   cut {cut}: {delay * 1000:.0f} ms after the press; receipts {counts}")
        self.figures.append(("power cuts", f"{self.cuts}, 0–500 ms after the press: {len(lost)} lost; "
                             f"{not_pressed} before the press was accepted, {len(uncommitted)} inside the commit window"))
        assert not lost, f"lost: {lost}"
        assert not duplicates, f"more than one duplicate in a cut: {duplicates}"

    def arrivals(self, ident, sink=None):
        """Host monotonic times at which any sink (or `sink`) saw `ident`, hung or not."""
        times = []
        if sink in (None, "hook"):
            times += [r["arrived"] for r in self.hook.requests() if r["id"] == ident]
        if sink in (None, "late-hook"):
            times += [r["arrived"] for r in self.late.requests() if r["id"] == ident]
        if sink in (None, "mail"):
            times += [m["accepted_monotonic"] for m in self.smtp.receipts(ident)]
        return times

    def receipts(self, sink, ident):
        return {"hook": self.hook, "late-hook": self.late, "mail": self.smtp}[sink].receipts(ident)

    def everything_received(self):
        ids = {r["id"] for r in self.hook.receipts()} | {r["id"] for r in self.late.requests()}
        return ids | {m["id"] for m in self.smtp.receipts()}

    def check_filesystem_and_outbox(self):
        """After a boot: the root filesystem was clean, daas started once and did not
        fail (the boot race with udev), and its outbox opens."""
        m = self.machine
        fsck = device.out(m.ssh("journalctl -b 0 -u systemd-fsck-root --no-pager -o cat", check=False))
        assert "UNEXPECTED INCONSISTENCY" not in fsck and "RUN fsck MANUALLY" not in fsck, fsck
        errors = device.out(m.ssh("dmesg | grep -iE 'EXT4-fs (error|warning)' || true"))
        assert not errors.strip(), errors
        self.wait_active()
        assert device.restarts(m) == 0, f"daas failed and was restarted at this boot:\n{device.journal(m)}"
        log = device.journal(m)
        assert "Failed with result" not in log, f"a failed start at this boot:\n{log}"
        device.status(m)  # the outbox opens and reads

    # ---- 5. the clock -------------------------------------------------------------

    def clock_behind(self):
        m = self.machine
        m.shutdown()
        behind = time.time() - 10 * 3600
        self.boot(rtc_base=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(behind)))
        m = self.machine
        self.wait_active()
        synced = device.out(m.ssh("timedatectl show -p NTPSynchronized --value")).strip()
        assert synced == "no", f"the guest's clock says synchronised: {synced}"
        self.late.stop()
        pressed, ident = self.press()
        early = [b for b in self.hook.accepted_bodies() if b.get("id") == ident]
        assert early and early[0]["body"] == "Pressed at just now.", f"sent before the sync: {early}"
        now = time.time()
        m.ssh(f"/usr/local/sbin/set-clock-synchronised {int(now)}")
        self.late.serve("healthy")
        wait_until("the delivery after the sync", lambda: self.late.receipts(ident), 60)
        late = [b for b in self.late.accepted_bodies() if b.get("id") == ident][-1]
        wall_pressed = now - (time.monotonic() - pressed)
        hhmm = time.strftime("%H:%M", time.gmtime(wall_pressed))
        assert late["body"] == f"Pressed at {hhmm}.", f"after the sync: {late} (pressed at {hhmm} UTC)"

    # ---- 6. upgrade, remove, purge -------------------------------------------------

    def upgrade_remove_purge(self):
        m = self.machine
        config_before = device.out(m.ssh("sha256sum /etc/daas/config.toml"))
        announcements = {a["id"] for a in device.status(m)["announcements"]}
        assert announcements, "the outbox is empty before the upgrade"
        m.copy_to(self.newer_deb, "/root/daas-new.deb")
        m.ssh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/daas-new.deb", timeout_s=300)
        self.wait_active()
        assert device.out(m.ssh("sha256sum /etc/daas/config.toml")) == config_before, "the upgrade changed the edited config"
        after = {a["id"] for a in device.status(m)["announcements"]}
        assert announcements <= after, f"the upgrade lost announcements: {announcements - after}"
        self.press()
        m.ssh("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q daas", timeout_s=300)
        m.ssh("test -f /etc/daas/config.toml && test -f /var/lib/daas/outbox.sqlite3")
        m.ssh("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q daas", timeout_s=300)
        m.ssh("test ! -e /etc/daas && test ! -e /var/lib/daas")


    # ---- 7. armhf -------------------------------------------------------------------

    def armhf_press(self):
        """The 32-bit package on its own emulated board: installed as an admin would
        (apt-get install ./daas.deb), configured like the arm64 one, pressed."""
        self.machine.shutdown()
        image, deb = self.armhf
        self.image = image
        self.workdir = os.path.join(self.workdir, "armhf")
        os.makedirs(self.workdir, exist_ok=True)
        self.figures.append(("armhf boot to ssh", f"{self.boot():.1f} s"))
        m = self.machine
        m.copy_to(deb, "/root/daas.deb")
        m.ssh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/daas.deb", timeout_s=300)
        device.configure(m, self.smtp.ca)
        self.wait_active(120)
        pressed, ident = self.press()
        wait_until("late-hook", lambda: self.late.receipts(ident), 60)
        wait_until("the email", lambda: self.smtp.receipts(ident), 60)
        hook = self.hook.receipts(ident)
        self.figures.append(("armhf system_powerdown → hook", f"{(hook[0]['arrived'] - pressed) * 1000:.0f} ms"))


def indent(text):
    return "\n".join("   | " + line for line in text.rstrip().splitlines())
