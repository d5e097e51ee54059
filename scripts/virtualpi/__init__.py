"""The virtual Pi: a Debian image with systemd, booted under QEMU, for whole-device tests."""
