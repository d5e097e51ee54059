"""Puts on this machine what the virtual Pi needs, and nothing that runs as a service.

The image is built with mmdebstrap (ARM programs run in its chroot through qemu-user
and binfmt_misc) and booted with qemu-system-aarch64 / qemu-system-arm. This module
installs the Debian packages that are missing (only those, without recommends, with
a policy-rc.d that keeps any service from starting) and registers the qemu-aarch64
and qemu-arm binfmt_misc handlers when they are not. It never adds a dpkg
architecture: everything ARM comes through mmdebstrap's own apt.

    python3 -m scripts.virtualpi.host      (or call ensure_host())
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Each package with what the virtual Pi uses it for.
HOST_PACKAGES = {
    "qemu-system-arm": "qemu-system-aarch64 and qemu-system-arm: the machines",
    "qemu-user-static": "runs the image's ARM programs while mmdebstrap builds it",
    "binfmt-support": "update-binfmts, to register qemu-user with the kernel",
    "qemu-utils": "qemu-img: the per-test-bed qcow2 overlay over the cached disk",
    "mmdebstrap": "builds the Debian root filesystem",
    "arch-test": "mmdebstrap's check that the foreign architecture can run",
    "e2fsprogs": "mkfs.ext4 -d: the disk image without mounting anything",
    "cpio": "packs the initramfs",
    "socat": "carries each guest connection to 10.0.2.100 to a host loopback port",
    "openssh-client": "ssh and scp into the guest, ssh-keygen for the image's key",
    "xz-utils": "unpacks kernel modules and .debs",
}

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_HANDLERS = ("qemu-aarch64", "qemu-arm")
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def as_root(command: list[str]) -> list[str]:
    """The command as root: as it is when we are root, else through sudo."""
    return command if os.geteuid() == 0 else ["sudo", *command]


def is_installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        capture_output=True, text=True, check=False,
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


def missing_packages() -> list[str]:
    return [p for p in HOST_PACKAGES if not is_installed(p)]


def installed_version(package: str) -> str | None:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


# QEMU's packages must all be one version: bookworm's qemu-system-common 7.2 Breaks
# a newer qemu-utils. A machine that already has QEMU from bookworm-backports (this
# project's CI machines come with qemu-utils 10.0 from there) gets qemu-system-arm
# from there too, through a sources file of our own given to apt for this install
# only, instead of apt removing or downgrading what the machine had.
BACKPORTS = "deb http://deb.debian.org/debian bookworm-backports main\n"
QEMU_PACKAGES = {"qemu-system-arm", "qemu-utils", "qemu-user-static"}


def qemu_from_backports() -> bool:
    return any("~bpo12" in (installed_version(p) or "") for p in QEMU_PACKAGES)


def install_packages(packages: list[str]) -> None:
    """apt-get install, with every service kept from starting while it runs."""
    print(f"virtual-pi: installing {' '.join(packages)} (no service is started)", flush=True)
    # A policy-rc.d that says 101 keeps maintainer scripts from starting services;
    # one that exists already (ours or the admin's) stays as it is.
    ours = not POLICY_RC_D.exists()
    if ours:
        subprocess.run(as_root(["sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}"]), check=True)
    sources = Path(f"/tmp/daas-virtual-pi-backports-{os.getpid()}.list")
    try:
        qemu = [p for p in packages if p in QEMU_PACKAGES]
        if qemu and qemu_from_backports():
            print("virtual-pi: QEMU here comes from bookworm-backports: so do the QEMU packages installed now", flush=True)
            sources.write_text(BACKPORTS)
            # -t: their dependencies too (qemu-system-common, -data) at the same version.
            apt_install(qemu, ["-o", f"Dir::Etc::SourceList={sources}"], ["-t", "bookworm-backports"])
            packages = [p for p in packages if p not in qemu]
        if packages:
            apt_install(packages, [], [])
    finally:
        if ours:
            subprocess.run(as_root(["rm", "-f", str(POLICY_RC_D)]), check=False)
        sources.unlink(missing_ok=True)


def apt_install(packages: list[str], apt_options: list[str], install_options: list[str]) -> None:
    subprocess.run(as_root(["apt-get", *apt_options, "update", "-qq"]), check=True)
    subprocess.run(
        # --no-remove: apt would rather remove a conflicting package (say a newer
        # qemu-utils from backports, which Breaks bookworm's qemu-system-common)
        # than fail; we change nothing beyond the packages we name.
        as_root(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", *apt_options, "install", *install_options,
                 "-y", "-qq", "--no-install-recommends", "--no-remove", *packages]),
        check=True,
    )


def binfmt_ready() -> bool:
    if not (BINFMT_DIR / "status").exists():
        return False
    enabled = (BINFMT_DIR / "status").read_text().strip() == "enabled"
    return enabled and all((BINFMT_DIR / h).exists() for h in BINFMT_HANDLERS)


def register_binfmt() -> None:
    """Registers Debian's qemu-user handlers, mounting binfmt_misc first when needed."""
    if binfmt_ready():
        return
    print("virtual-pi: registering the qemu-aarch64 and qemu-arm binfmt_misc handlers", flush=True)
    if not (BINFMT_DIR / "register").exists():
        subprocess.run(as_root(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)]),
                       check=False, stderr=subprocess.DEVNULL)
    for handler in BINFMT_HANDLERS:
        # --import: qemu-user-static registers itself only when binfmt-support was
        # configured before it, which apt does not promise.
        for action in ("--import", "--enable"):
            subprocess.run(as_root(["update-binfmts", action, handler]), check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not binfmt_ready():
        raise RuntimeError(
            "cannot register qemu-user with binfmt_misc (not mounted and not mountable here,"
            " as in a container without privileges), so mmdebstrap cannot run ARM programs."
            " On the host: sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc;"
            " sudo update-binfmts --enable qemu-aarch64; sudo update-binfmts --enable qemu-arm"
        )


def ensure_host() -> None:
    """Everything the image build and the machines need on this host, installed once."""
    missing = missing_packages()
    if missing:
        install_packages(missing)
    register_binfmt()
    for program in ("mmdebstrap", "qemu-system-aarch64", "qemu-system-arm", "qemu-img", "socat"):
        if shutil.which(program) is None:
            raise RuntimeError(f"{program} is not on PATH after installing its package")


if __name__ == "__main__":
    try:
        ensure_host()
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"virtual-pi: {error}", file=sys.stderr)
        sys.exit(1)
