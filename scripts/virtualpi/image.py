"""Builds the virtual Pi's disk image: Debian bookworm with systemd, for arm64 or armhf.

Why this shape (each part was timed on the CI machine):
- mmdebstrap makes the root filesystem from Debian's packages (~2 min under
  qemu-user). The kernel is NOT installed in it: linux-image-* pulls initramfs-tools,
  and mkinitramfs under qemu-user takes 20+ min. Instead a --customize-hook (this
  file, run again as `python3 -m scripts.virtualpi.image customize ...`) has the
  chroot's own apt, which knows its architecture, download the kernel and
  busybox-static .debs; the kernel's modules go into the image and its vmlinuz stays
  outside, for QEMU's -kernel.
- A tiny initramfs is built here on the host from busybox-static and the handful of
  modules the virtio disk needs.
- `mkfs.ext4 -d` turns the tree into a disk without mounting anything.

The result is cached under target/virtual-pi/<arch>/ ($CARGO_TARGET_DIR respected)
and rebuilt only when its recipe changes: a hash of this file, the files under
scripts/virtualpi/guest/ and the architecture, stored beside the image.

    python3 -m scripts.virtualpi.image [arm64|armhf]     build (or reuse) and print paths
"""

import dataclasses
import gzip
import hashlib
import lzma
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from scripts.virtualpi import host

REPO = Path(__file__).resolve().parents[2]
GUEST = Path(__file__).resolve().parent / "guest"
SUITE = "bookworm"
# Explicit mirrors: without them mmdebstrap adds security.debian.org, and this
# machine may reach Debian's packages only through deb.debian.org.
MIRRORS = (
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
)
# What the device needs beyond Essential: systemd as PID 1 and its udev, an sshd for
# tests and scripts/deploy, dbus for timedatectl (it asks systemd-timedated over
# D-Bus), passwd for the daas package's Depends. Never linux-image-* or
# initramfs-tools (see above), and no NTP client: tests set the clock themselves.
INCLUDE = ("systemd", "systemd-sysv", "udev", "kmod", "iproute2", "openssh-server",
           "passwd", "e2fsprogs", "procps", "dbus")
NTP_CLIENTS = ("systemd-timesyncd", "chrony", "ntp", "ntpsec", "openntpd")
KERNEL_METAPACKAGE = {"arm64": "linux-image-arm64", "armhf": "linux-image-armmp"}
DISK_SIZE = "2G"
# Module trees the virtual Pi never loads, pruned so the image stays small.
PRUNED_MODULE_TREES = ("drivers/gpu", "drivers/media", "sound", "drivers/net/wireless",
                       "drivers/staging", "drivers/infiniband", "drivers/bluetooth",
                       "net/bluetooth", "net/wireless", "net/mac80211")
# gpio_keys would claim PL061 line 3 (QEMU's power key), the line daas reads.
REMOVED_MODULES = ("gpio_keys",)
# The initramfs's modules, in load order (bookworm's 6.1 kernel has virtio_pci split
# in three). Their modules.dep dependencies are added before them; built-in or
# absent ones are skipped.
INITRAMFS_MODULES = ("crc16", "mbcache", "jbd2", "crc32c_generic", "ext4", "virtio_blk",
                     "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci")


@dataclasses.dataclass(frozen=True)
class Image:
    """A built image: what Machine boots and how to reach it over ssh."""

    arch: str  # Debian architecture: arm64 or armhf
    disk: Path  # raw ext4, the root filesystem; never written (machines use overlays)
    kernel: Path  # vmlinuz from Debian's kernel package
    initrd: Path
    ssh_key: Path  # private key whose public half is root's authorized_keys
    known_hosts: Path  # the guest's host key, for StrictHostKeyChecking=yes
    kernel_version: str
    recipe: str  # the recipe hash this image was built from


# ---------------------------------------------------------------------------- cache


def cache_dir(arch: str) -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "virtual-pi" / arch


def recipe_hash(arch: str) -> str:
    """What the image is made from: this file, every guest file (path, mode, bytes), arch."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    for path in sorted(p for p in GUEST.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(GUEST)).encode() + b"\0")
        digest.update(oct(path.stat().st_mode & 0o7777).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(arch.encode())
    return digest.hexdigest()


def image_in(directory: Path, arch: str, recipe: str) -> Image:
    return Image(
        arch=arch,
        disk=directory / "base.img",
        kernel=directory / "vmlinuz",
        initrd=directory / "initrd.img",
        ssh_key=directory / "id_ed25519",
        known_hosts=directory / "known_hosts",
        kernel_version=(directory / "kernel-version").read_text().strip()
        if (directory / "kernel-version").exists() else "",
        recipe=recipe,
    )


def cached_image(arch: str, recipe: str) -> Image | None:
    directory = cache_dir(arch)
    stamp = directory / "recipe.sha256"
    if not stamp.exists() or stamp.read_text().strip() != recipe:
        return None
    image = image_in(directory, arch, recipe)
    files = (image.disk, image.kernel, image.initrd, image.ssh_key, image.known_hosts)
    return image if all(f.exists() for f in files) else None


# ---------------------------------------------------------------------------- build


def build(arch: str) -> Image:
    """The image for arch, from the cache when its recipe has not changed."""
    if arch not in KERNEL_METAPACKAGE:
        raise ValueError(f"unknown architecture {arch!r} (expected arm64 or armhf)")
    recipe = recipe_hash(arch)
    image = cached_image(arch, recipe)
    if image is not None:
        return image
    host.ensure_host()
    directory = cache_dir(arch)
    print(f"virtual-pi: building the {arch} image in {directory} (recipe {recipe[:12]})", flush=True)
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    # A build starts from nothing; the stamp goes last, so a build that dies half-way
    # is never taken for a finished one.
    (directory / "recipe.sha256").unlink(missing_ok=True)
    work = directory / "build"
    remove_tree(work)
    work.mkdir()
    rootfs, downloads = work / "rootfs", work / "downloads"
    downloads.mkdir()
    make_client_key(work)
    run_mmdebstrap(arch, rootfs, work)
    kernel_version = (downloads / "kernel-version").read_text().strip()
    shutil.copyfile(downloads / "vmlinuz", work / "vmlinuz")
    # The image's copy: pruned, and with the modules.dep its depmod wrote.
    build_initramfs(image_modules_dir(rootfs) / kernel_version, downloads / "busybox",
                    work / "initrd.img")
    make_disk(rootfs, work / "base.img")
    remove_tree(rootfs)
    remove_tree(downloads)
    (work / "kernel-version").write_text(kernel_version + "\n")
    for name in ("base.img", "vmlinuz", "initrd.img", "id_ed25519", "id_ed25519.pub",
                 "known_hosts", "kernel-version"):
        os.replace(work / name, directory / name)
    work.rmdir()
    give_to_invoking_user(directory)
    (directory / "recipe.sha256").write_text(recipe + "\n")
    print(f"virtual-pi: {arch} image built in {time.monotonic() - started:.0f} s"
          f" (kernel {kernel_version})", flush=True)
    return image_in(directory, arch, recipe)


def root_run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(host.as_root(command), check=True, **kwargs)


def remove_tree(path: Path) -> None:
    # The tree holds root's files (a whole root filesystem), hence as root.
    if path.exists():
        root_run(["rm", "-rf", "--one-file-system", str(path)])


def give_to_invoking_user(directory: Path) -> None:
    """Built through sudo, the files are root's; the user who asked must read the key."""
    if os.geteuid() != 0:
        root_run(["chown", "-R", f"{os.getuid()}:{os.getgid()}", str(directory)])


def make_client_key(work: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "virtual-pi",
                    "-f", str(work / "id_ed25519")], check=True)


def run_mmdebstrap(arch: str, rootfs: Path, work: Path) -> None:
    """The root filesystem, finished by customize() below inside mmdebstrap's hook."""
    hook = " ".join([
        "cd", shlex.quote(str(REPO)), "&&", shlex.quote(sys.executable), "-m",
        "scripts.virtualpi.image", "customize", '"$1"', arch, shlex.quote(str(work)),
    ])
    command = [
        "mmdebstrap", f"--arch={arch}", "--variant=apt", "--mode=root", "--quiet",
        f"--include={','.join(INCLUDE)}", f"--customize-hook={hook}",
        # Its "reproducible" cleanup would empty the machine-id written by the hook.
        "--skip=cleanup/reproducible",
        SUITE, str(rootfs), *MIRRORS,
    ]
    print(f"virtual-pi: mmdebstrap {SUITE} {arch} (about 2 min)", flush=True)
    root_run(command)


# ------------------------------------------------------------- inside mmdebstrap's hook


def customize(rootfs: Path, arch: str, work: Path) -> None:
    """Everything done to the root filesystem, as root, with the chroot set up (its
    apt and network, /proc, /dev). The kernel and busybox go to work/downloads."""
    downloads = work / "downloads"
    kernel_package = resolve_kernel_package(rootfs, arch)
    kernel_deb, busybox_deb = download_in_chroot(rootfs, [kernel_package, "busybox-static"], downloads)
    kernel_version = install_kernel_modules(rootfs, kernel_deb, downloads)
    subprocess.run(["dpkg-deb", "-x", str(busybox_deb), str(downloads / "busybox")], check=True)
    # After the downloads: this replaces resolv.conf, which they needed.
    copy_guest_files(rootfs)
    configure_system(rootfs, work / "id_ed25519.pub")
    write_machine_id(rootfs)
    record_host_key(rootfs, work / "known_hosts")
    refuse_ntp_clients(rootfs)
    (downloads / "kernel-version").write_text(kernel_version + "\n")


def in_chroot(rootfs: Path, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["chroot", str(rootfs), *command], check=True, **kwargs)


def resolve_kernel_package(rootfs: Path, arch: str) -> str:
    """linux-image-arm64 (a metapackage) -> linux-image-6.1.0-NN-arm64, by the chroot's apt."""
    metapackage = KERNEL_METAPACKAGE[arch]
    result = in_chroot(rootfs, ["apt-cache", "depends", metapackage], capture_output=True, text=True)
    for line in result.stdout.splitlines():
        kind, _, package = line.strip().partition(": ")
        if kind == "Depends" and package.startswith("linux-image-"):
            return package
    raise RuntimeError(f"apt-cache depends {metapackage} names no linux-image-* package:\n{result.stdout}")


def download_in_chroot(rootfs: Path, packages: list[str], downloads: Path) -> list[Path]:
    """The .debs for the chroot's architecture, moved out to downloads (in order)."""
    inside = Path("/var/tmp/virtual-pi-debs")
    (rootfs / inside.relative_to("/")).mkdir(parents=True, exist_ok=True)
    in_chroot(rootfs, ["sh", "-c", f"cd {inside} && apt-get download -q "
                       f"-o APT::Sandbox::User=root {' '.join(packages)}"])
    debs = []
    for package in packages:
        found = sorted((rootfs / inside.relative_to("/")).glob(f"{package}_*.deb"))
        if len(found) != 1:
            raise RuntimeError(f"apt-get download {package} left {len(found)} .debs")
        debs.append(Path(shutil.move(found[0], downloads / found[0].name)))
    shutil.rmtree(rootfs / inside.relative_to("/"))
    return debs


def install_kernel_modules(rootfs: Path, kernel_deb: Path, downloads: Path) -> str:
    """Puts the kernel's modules (pruned) into the image; keeps vmlinuz outside."""
    extracted = downloads / "kernel"
    subprocess.run(["dpkg-deb", "-x", str(kernel_deb), str(extracted)], check=True)
    versions = [p.name for p in (extracted / "lib" / "modules").iterdir()]
    if len(versions) != 1:
        raise RuntimeError(f"{kernel_deb.name} has modules for {versions}, expected one kernel")
    version = versions[0]
    shutil.copyfile(extracted / "boot" / f"vmlinuz-{version}", downloads / "vmlinuz")
    modules = extracted / "lib" / "modules" / version
    for tree in PRUNED_MODULE_TREES:
        shutil.rmtree(modules / "kernel" / tree, ignore_errors=True)
    for name in REMOVED_MODULES:
        for path in modules.rglob(f"{name}.ko*"):
            path.unlink()
    shutil.copytree(modules, image_modules_dir(rootfs) / version, symlinks=True)
    in_chroot(rootfs, ["depmod", version])
    return version


def image_modules_dir(rootfs: Path) -> Path:
    # Merged /usr: /lib is a symlink to usr/lib in bookworm; go through usr/lib so
    # nothing follows a link out of the root filesystem.
    return rootfs / ("usr/lib" if (rootfs / "lib").is_symlink() else "lib") / "modules"


def configure_system(rootfs: Path, public_key: Path) -> None:
    """Users, groups, units: done by the image's own tools, as an admin would."""
    in_chroot(rootfs, ["groupadd", "--system", "gpio"])
    in_chroot(rootfs, ["passwd", "--delete", "root"])  # for the serial console only
    in_chroot(rootfs, ["systemctl", "enable", "systemd-networkd.service"])
    # Nothing in the background that the tests did not start (and no apt runs: there
    # is no network to fetch from).
    in_chroot(rootfs, ["systemctl", "mask", "apt-daily.timer", "apt-daily-upgrade.timer"])
    ssh_dir = rootfs / "root" / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(public_key, ssh_dir / "authorized_keys")
    (ssh_dir / "authorized_keys").chmod(0o600)
    # journald keeps the journal on disk when this exists (and Storage=persistent).
    (rootfs / "var" / "log" / "journal").mkdir(exist_ok=True)


def refuse_ntp_clients(rootfs: Path) -> None:
    result = in_chroot(rootfs, ["dpkg-query", "-W", "-f=${Package} ${Status}\n"],
                       capture_output=True, text=True)
    installed = {line.split()[0] for line in result.stdout.splitlines() if line.endswith(" installed")}
    found = installed.intersection(NTP_CLIENTS)
    if found:
        raise RuntimeError(f"the image has an NTP client ({', '.join(sorted(found))});"
                           " tests must be the only ones to set its clock")


def copy_guest_files(rootfs: Path) -> None:
    """scripts/virtualpi/guest/rootfs/ over the image, with the modes git has."""
    source = GUEST / "rootfs"
    for path in sorted(source.rglob("*")):
        destination = rootfs / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(exist_ok=True)
            continue
        # resolv.conf may be a copy or a symlink the build host's setup put there.
        if destination.is_symlink():
            destination.unlink()
        shutil.copyfile(path, destination)
        destination.chmod(path.stat().st_mode & 0o7777)
        os.chown(destination, 0, 0)


def write_machine_id(rootfs: Path) -> None:
    # mmdebstrap leaves /etc/machine-id empty (first boot). A fixed id keeps the
    # journal's directory the same from boot to boot, so `journalctl -b -1` reads the
    # boot before a power cut, and no boot is a "first boot".
    (rootfs / "etc" / "machine-id").write_text(secrets.token_hex(16) + "\n")


def record_host_key(rootfs: Path, known_hosts: Path) -> None:
    """The guest's ed25519 host key, for whatever port QEMU forwards to its sshd."""
    key_type, key = (rootfs / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]
    # ssh looks a non-22 port up as "[127.0.0.1]:PORT"; known_hosts patterns take
    # wildcards, so one line serves every forwarded port (and scripts/deploy).
    known_hosts.write_text(f"[127.0.0.1]:*,[localhost]:*,daas-pi {key_type} {key}\n")


# ---------------------------------------------------------------- after mmdebstrap


def build_initramfs(modules: Path, busybox: Path, initrd: Path) -> None:
    """busybox-static, the disk's modules and guest/initramfs/init, as a gzip'd newc cpio."""
    staging = initrd.with_suffix(".d")
    remove_tree(staging)
    (staging / "bin").mkdir(parents=True)
    (staging / "lib" / "modules").mkdir(parents=True)
    busybox_binary = next(p for p in (busybox / "bin" / "busybox", busybox / "usr" / "bin" / "busybox") if p.exists())
    shutil.copyfile(busybox_binary, staging / "bin" / "busybox")
    (staging / "bin" / "busybox").chmod(0o755)
    shutil.copyfile(GUEST / "initramfs" / "init", staging / "init")
    (staging / "init").chmod(0o755)
    order = initramfs_module_order(modules)
    for name, path in order:
        data = path.read_bytes()
        if path.name.endswith(".xz"):  # 6.12 kernels ship .ko.xz; busybox insmod wants .ko
            data = lzma.decompress(data)
        (staging / "lib" / "modules" / f"{name}.ko").write_bytes(data)
    (staging / "lib" / "modules" / "load-order").write_text("".join(f"{n}\n" for n, _ in order))
    files = subprocess.run(["find", ".", "-mindepth", "1"], cwd=staging, check=True,
                           capture_output=True).stdout
    archive = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=staging,
                             input=files, check=True, capture_output=True).stdout
    initrd.write_bytes(gzip.compress(archive, compresslevel=6))
    shutil.rmtree(staging)


def module_name(path: str) -> str:
    base = Path(path).name
    for suffix in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base.replace("-", "_")


def initramfs_module_order(modules: Path) -> list[tuple[str, Path]]:
    """INITRAMFS_MODULES with their dependencies first, built-in and absent ones left out."""
    dependencies: dict[str, list[str]] = {}
    path_of: dict[str, Path] = {}
    for line in (modules / "modules.dep").read_text().splitlines():
        module, _, needs = line.partition(":")
        name = module_name(module)
        path_of[name] = modules / module
        dependencies[name] = [module_name(n) for n in needs.split()]
    order: list[tuple[str, Path]] = []

    def add(name: str) -> None:
        if name not in path_of or any(n == name for n, _ in order):
            return  # built in (or not in this kernel), or already there
        for needed in dependencies[name]:
            add(needed)
        order.append((name, path_of[name]))

    for name in INITRAMFS_MODULES:
        add(name)
    if not any(n == "ext4" for n, _ in order) and "ext4" in path_of:
        raise RuntimeError("ext4 did not make it into the initramfs")
    return order


def make_disk(rootfs: Path, disk: Path) -> None:
    # As root: the tree holds root-only files (/etc/shadow, host keys).
    root_run(["mkfs.ext4", "-q", "-F", "-L", "daas-pi", "-d", str(rootfs), str(disk), DISK_SIZE],
             stdout=subprocess.DEVNULL)  # it says "Creating regular file" even with -q


# ---------------------------------------------------------------------------- CLI


def main(argv: list[str]) -> int:
    if argv[:1] == ["customize"] and len(argv) == 4:
        _, rootfs, arch, work = argv
        customize(Path(rootfs), arch, Path(work))
        return 0
    if len(argv) <= 1 and all(a in KERNEL_METAPACKAGE for a in argv):
        image = build(argv[0] if argv else "arm64")
        for field in dataclasses.fields(image):
            print(f"{field.name}: {getattr(image, field.name)}")
        return 0
    print("usage: python3 -m scripts.virtualpi.image [arm64|armhf]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
