"""One virtual Pi: an Image booted under QEMU (TCG), driven the way a person drives a Pi.

Why QEMU's virt machine: it has a PL061 GPIO controller whose line 3 is wired to the
power key, so QMP `system_powerdown` (with ACPI off) drives that line high for about
100 ms: a button press through a real kernel GPIO driver and interrupt, the very path
daas reads on a Pi. Killing QEMU is a power cut; the disk is a qcow2 overlay in the
machine's work directory, so the next boot of that directory finds the disk as the
cut left it (the cached base image is never written).

Networking is QEMU user mode with restrict=on: the guest reaches nothing but
  - its sshd, forwarded from 127.0.0.1:<ssh_port> on the host, and
  - for each guest_forwards entry GPORT: HPORT, 10.0.2.100:GPORT, which QEMU carries
    to the host's 127.0.0.1:HPORT (one socat per connection): the tests' servers.

    with Machine(build("arm64"), workdir) as pi:
        pi.boot(); pi.wait_for_ssh(120)
        pi.ssh("systemctl is-system-running --wait")
        pi.press(); pi.cut(); pi.boot()    # same disk

Boot from the thread that will outlive the machine (normally the main one): QEMU is
started with PR_SET_PDEATHSIG, which the kernel ties to the thread that started it,
so no QEMU outlives a test process that dies; a worker thread that ends takes its
QEMU with it.
"""

import ctypes
import datetime
import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from scripts.virtualpi.image import Image

# Per Debian architecture: the QEMU binary, its CPU, and the machine options.
# acpi=off: with ACPI, system_powerdown is an ACPI event instead of the GPIO line.
# highmem=off on armhf: Debian's armmp kernel (no LPAE) cannot reach the PCIe ECAM
# QEMU puts above 4 GB, and then finds no virtio disk.
QEMU = {
    "arm64": ("qemu-system-aarch64", "cortex-a72", "virt,acpi=off"),
    "armhf": ("qemu-system-arm", "cortex-a15", "virt,acpi=off,highmem=off"),
}
GUEST_FORWARD_ADDRESS = "10.0.2.100"
# initcall_blacklist: Debian's armmp kernel has gpio_keys built in (arm64 has it as a
# module, which the image leaves out), and it would claim PL061 line 3, the button.
KERNEL_ARGS = "console=ttyAMA0 root=/dev/vda ro panic=1 initcall_blacklist=gpio_keys_init"
SSH_CONNECT_TIMEOUT_S = 10
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with its NUL


class MachineError(RuntimeError):
    """The machine did not do what was asked; the message says what and where to look."""


class Machine:
    """One virtual Pi and its work directory (disk overlay, console.log, qemu.log, QMP)."""

    def __init__(self, image: Image, workdir, rtc_base=None, guest_forwards=None,
                 smp: int = 2, memory_mb: int = 1024, console: bool = False):
        """rtc_base: the guest's real-time clock at each power-up, a datetime (naive
        ones are UTC) or QEMU's own "2024-01-01T00:00:00"; None is the host's UTC now.
        (Set machine.rtc_base between boots to change it.)
        guest_forwards: {guest port on 10.0.2.100: host loopback port}.
        console: the serial console on this terminal (-nographic) instead of
        workdir/console.log."""
        self.image = image
        self.workdir = Path(workdir).resolve()
        self.rtc_base = rtc_base
        self.guest_forwards = dict(guest_forwards or {})
        self.smp = smp
        self.memory_mb = memory_mb
        self.console = console
        self.disk = self.workdir / "disk.qcow2"
        self.console_log = self.workdir / "console.log"
        self.qmp_socket = self.workdir / "qmp.sock"
        self.ssh_port: int | None = None
        self.process: subprocess.Popen | None = None
        self.boot_started: float | None = None  # time.monotonic() when QEMU was started
        self.boots = 0
        if len(str(self.qmp_socket)) > UNIX_PATH_MAX:
            raise MachineError(f"the work directory's path is too long for a unix socket"
                               f" ({self.qmp_socket}): use a shorter one")

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def boot(self) -> None:
        """Starts QEMU in the background: power on. Returns at once."""
        if self.running():
            raise MachineError("boot(): this machine is already running")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ensure_disk()
        self.qmp_socket.unlink(missing_ok=True)
        self.ssh_port = free_loopback_port()
        self.boots += 1
        stdio = {}
        if not self.console:
            with self.console_log.open("a") as log:
                log.write(f"\n===== virtual-pi boot {self.boots}, {datetime.datetime.now().isoformat()}\n")
            stdio = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=(self.workdir / "qemu.log").open("a"))
        self.boot_started = time.monotonic()
        # Not in its own session with a console: QEMU needs the terminal then. Without
        # one it is, so a Ctrl-C at the terminal reaches only Python, which cleans up.
        self.process = subprocess.Popen(self.qemu_command(), preexec_fn=die_with_parent,
                                        start_new_session=not self.console, **stdio)
        if "stderr" in stdio:
            stdio["stderr"].close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout_s: float | None = None) -> int:
        """Waits for QEMU to end (the guest powered off, or `shell`'s person quit)."""
        if self.process is None:
            raise MachineError("wait(): this machine was never booted")
        return self.process.wait(timeout_s)

    def cut(self) -> None:
        """A power cut: QEMU is killed, nothing in the guest gets to run."""
        if self.running():
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def shutdown(self, timeout_s: float = 120) -> None:
        """A clean power-off: systemctl poweroff, else QMP quit, else a kill."""
        if not self.running():
            return
        # ssh ends with an error when the connection drops under it: expected.
        self.ssh("systemctl poweroff", check=False, timeout_s=30)
        try:
            self.process.wait(timeout_s)
            return
        except subprocess.TimeoutExpired:
            print(f"virtual-pi: the guest did not power off in {timeout_s:.0f} s; QMP quit",
                  file=sys.stderr)
        try:
            self.qmp("quit")
            self.process.wait(10)
        except (OSError, MachineError, subprocess.TimeoutExpired):
            self.cut()

    def close(self) -> None:
        """Never leaves a QEMU running (a power cut if it still is)."""
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    # ------------------------------------------------------------------ the disk

    def ensure_disk(self) -> None:
        """The overlay over the cached image: made on the first boot, reused after."""
        stamp = self.workdir / "disk.recipe"
        if self.disk.exists() and stamp.exists() and stamp.read_text().strip() == self.image.recipe:
            return
        if self.disk.exists():
            # The image was rebuilt under this overlay: its blocks would no longer match.
            print(f"virtual-pi: the {self.image.arch} image changed since {self.disk} was made;"
                  " starting that disk again from the new image", file=sys.stderr)
            self.disk.unlink()
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                        "-b", str(self.image.disk), str(self.disk)], check=True)
        stamp.write_text(self.image.recipe + "\n")

    # ------------------------------------------------------------------ QEMU

    def qemu_command(self) -> list[str]:
        binary, cpu, machine = QEMU[self.image.arch]
        netdev = ",".join([
            "user", "id=net0", "restrict=on",
            f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
            # cmd: starts one socat per connection (a chardev would carry only one).
            *(f"guestfwd=tcp:{GUEST_FORWARD_ADDRESS}:{guest_port}-cmd:socat - TCP:127.0.0.1:{host_port}"
              for guest_port, host_port in sorted(self.guest_forwards.items())),
        ])
        command = [
            binary, "-M", machine, "-cpu", cpu, "-accel", "tcg",
            "-smp", str(self.smp), "-m", str(self.memory_mb),
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", KERNEL_ARGS,
            "-drive", f"file={self.disk},format=qcow2,if=none,id=disk0",
            "-device", "virtio-blk-pci,drive=disk0",
            # romfile=: no PXE option ROM (it comes from ipxe-qemu, which is only a
            # Recommends; a kernel booted with -kernel never uses it).
            "-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,romfile=",
            "-rtc", f"base={qemu_rtc_base(self.rtc_base)}",
            "-qmp", f"unix:{self.qmp_socket},server=on,wait=off",
            # A reboot or a kernel panic (panic=1) ends QEMU rather than looping.
            "-no-reboot",
        ]
        if self.console:
            command += ["-nographic"]
        else:
            command += ["-display", "none", "-monitor", "none",
                        "-chardev", f"file,id=serial0,path={self.console_log},append=on",
                        "-serial", "chardev:serial0"]
        return command

    def qmp(self, command: str, arguments: dict | None = None, timeout_s: float = 10,
            on_sent=None):
        """One QMP command on a fresh connection: greeting, qmp_capabilities, command.
        on_sent() is called right after the command is written (for timing)."""
        if not self.running():
            raise MachineError(f"QMP {command}: QEMU is not running")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            deadline = time.monotonic() + timeout_s
            while True:  # QEMU creates the socket a moment after it starts
                try:
                    sock.connect(str(self.qmp_socket))
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if time.monotonic() > deadline or not self.running():
                        raise MachineError(f"QMP {command}: no QMP socket at {self.qmp_socket}")
                    time.sleep(0.05)
            reader = sock.makefile("r", encoding="utf-8")
            qmp_message(reader)  # the greeting
            qmp_send(sock, "qmp_capabilities")
            qmp_reply(reader, "qmp_capabilities")
            qmp_send(sock, command, arguments)
            result = on_sent() if on_sent else None
            reply = qmp_reply(reader, command)
        return result if on_sent else reply

    # ------------------------------------------------------------------ the button

    def press(self) -> float:
        """The button: PL061 line 3 high for ~100 ms. Returns time.monotonic() at the
        command (taken as it is sent, after the QMP handshake)."""
        return self.qmp("system_powerdown", on_sent=time.monotonic)

    # ------------------------------------------------------------------ ssh

    def ssh_options(self) -> list[str]:
        """Options for ssh and scp (and for scripts/deploy's -o)."""
        return [
            "-F", "/dev/null",  # the invoking user's ~/.ssh/config does not apply
            "-i", str(self.image.ssh_key),
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={self.image.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_S}",
            "-o", "LogLevel=ERROR",
        ]

    def deploy_args(self) -> list[str]:
        """scripts/deploy's arguments after root@127.0.0.1 that reach this guest."""
        return ["--port", str(self.ssh_port), "--identity", str(self.image.ssh_key),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.image.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null"]

    def ssh(self, command, check: bool = True, timeout_s: float = 60,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Runs command (a shell string, or a list that is quoted) as root in the guest.
        Output is captured as text; check raises MachineError with it on failure."""
        if self.ssh_port is None:
            raise MachineError("ssh: this machine was never booted")
        if not isinstance(command, str):
            command = shlex.join(command)
        argv = ["ssh", *self.ssh_options(), "-p", str(self.ssh_port), "root@127.0.0.1", command]
        try:
            result = subprocess.run(argv, input=input, capture_output=True, text=True,
                                    timeout=timeout_s, stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as error:
            raise MachineError(f"ssh {command!r}: no answer in {timeout_s} s") from error
        if check and result.returncode != 0:
            raise MachineError(f"ssh {command!r} exited with {result.returncode}:\n"
                               f"{result.stdout}{result.stderr}")
        return result

    def wait_for_ssh(self, timeout_s: float = 180) -> float:
        """Waits until root can log in over ssh; returns seconds since boot() started QEMU."""
        if self.boot_started is None:
            raise MachineError("wait_for_ssh: this machine was never booted")
        deadline = self.boot_started + timeout_s
        while True:
            if not self.running():
                raise MachineError(f"QEMU ended while waiting for ssh{self.diagnostics()}")
            try:
                if self.ssh("true", check=False, timeout_s=SSH_CONNECT_TIMEOUT_S + 5).returncode == 0:
                    return time.monotonic() - self.boot_started
            except MachineError:
                pass  # a handshake that stalled while the guest was still booting
            if time.monotonic() > deadline:
                raise MachineError(f"no ssh to the guest {timeout_s:.0f} s after boot{self.diagnostics()}")
            time.sleep(0.5)

    def copy_to(self, local, remote: str) -> None:
        """scp a local file to the guest's remote path."""
        argv = ["scp", "-q", *self.ssh_options(), "-P", str(self.ssh_port),
                str(local), f"root@127.0.0.1:{remote}"]
        result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise MachineError(f"scp {local} to {remote} failed: {result.stderr.strip()}")

    def diagnostics(self, lines: int = 30) -> str:
        """The ends of qemu.log (QEMU's own errors) and console.log, for an error message."""
        text = ""
        for log in (self.workdir / "qemu.log", self.console_log):
            if log.exists() and log.stat().st_size > 0 and not (self.console and log == self.console_log):
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                text += f"\n--- the end of {log}:\n" + "\n".join(tail)
        return text


# ---------------------------------------------------------------------------- helpers


def die_with_parent() -> None:
    # In the child, before exec: QEMU gets SIGKILL if the Python process dies without
    # cleaning up (killed, crashed), so no virtual Pi outlives its test.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def qemu_rtc_base(rtc_base) -> str:
    if rtc_base is None:
        return "utc"
    if isinstance(rtc_base, datetime.datetime):
        if rtc_base.tzinfo is not None:
            rtc_base = rtc_base.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return rtc_base.strftime("%Y-%m-%dT%H:%M:%S")
    return str(rtc_base)


def qmp_send(sock: socket.socket, command: str, arguments: dict | None = None) -> None:
    message = {"execute": command}
    if arguments:
        message["arguments"] = arguments
    sock.sendall(json.dumps(message).encode() + b"\n")


def qmp_message(reader) -> dict:
    line = reader.readline()
    if not line:
        raise MachineError("QMP: QEMU closed the connection")
    return json.loads(line)


def qmp_reply(reader, command: str) -> dict:
    """The answer to the last command, skipping the asynchronous events between."""
    while True:
        message = qmp_message(reader)
        if "return" in message:
            return message["return"]
        if "error" in message:
            raise MachineError(f"QMP {command}: {message['error'].get('desc', message['error'])}")
