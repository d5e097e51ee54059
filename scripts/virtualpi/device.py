"""daas on the virtual Pi as a lab admin sets it up: the config, the secrets as systemd
credentials, and what the suite asks systemd and the daemon about it.

The config is the packaged unit's own story: the button on the PL061's line 3 (the
power key QEMU's `system_powerdown` drives, active high, no pull), the feedback LED
on its line 4 (an output; `led_changes` reads it back from debugfs), the webhook URLs
and the SMTP password in /etc/daas/secrets/ handed over by `LoadCredential=` in a
drop-in (as the unit's comments tell an admin to), and three sinks that reach the
host's servers through QEMU's guestfwd at 10.0.2.100 (servers.py).
"""

import json
import shlex

GUEST_HOST = "10.0.2.100"  # QEMU's guestfwd address for the host's servers
HOOK_PORT = 80  # webhook "hook": a receiver that stays healthy
LATE_PORT = 81  # webhook "late-hook": the receiver a test takes down or makes hang
SMTP_PORT = 2525
SMTP_USER = "daas"
SMTP_PASSWORD = "virtual-pi-smtp-secret"
LED_LINE = 4  # a free PL061 line, driven as the feedback LED

CONFIG = f"""# /etc/daas/config.toml on the virtual Pi (scripts/virtualpi/device.py)
[device]
name = "virtual Pi"

[gpio]
backend = "gpiocdev"
chip = "/dev/gpiochip0"

# QEMU virt's PL061 line 3: the power key, high while `system_powerdown` holds it.
[button]
pin = 3
pull = "off"
active = "high"

# The feedback LED on line 4, an output the suite reads back in debugfs.
[led]
pin = {LED_LINE}
active = "high"

[gestures]
press = "arrival"

[actions.arrival]
subject = "Doughnuts in the {{device}}!"
body = "Pressed at {{time}}."
cooldown_s = 0

[delivery]
backoff_initial_s = 1
backoff_max_s = 2
expire_after_s = 3600

[[sinks]]
type = "webhook"
name = "hook"
url_file = "/run/credentials/daas.service/hook-url"
timeout_s = 5

[[sinks]]
type = "webhook"
name = "late-hook"
url_file = "/run/credentials/daas.service/late-hook-url"
timeout_s = 3

[[sinks]]
type = "email"
name = "mail"
server = "{GUEST_HOST}"
port = {SMTP_PORT}
tls = "starttls"
ca_file = "/etc/daas/smtp-ca.pem"
username = "{SMTP_USER}"
password_file = "/run/credentials/daas.service/smtp-password"
from = "daas@virtual-pi.test"
to = "kitchen@virtual-pi.test"
timeout_s = 5
"""

CREDENTIALS_DROP_IN = """# The secrets as systemd credentials (scripts/virtualpi/device.py)
[Service]
LoadCredential=hook-url:/etc/daas/secrets/hook-url
LoadCredential=late-hook-url:/etc/daas/secrets/late-hook-url
LoadCredential=smtp-password:/etc/daas/secrets/smtp-password
"""

SINKS = ("hook", "late-hook", "mail")


# Records the LED line's changes for SECONDS seconds, as "UPTIME hi|lo" lines: shell
# builtins only (no fork per sample), so it samples every few milliseconds even
# under TCG. debugfs lists a requested line as "gpio-N (...|daas-led) out hi".
LED_SAMPLER = r"""
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
end=$(( $(cut -d. -f1 /proc/uptime) + SECONDS ))
last=
while :; do
  read -r up _ < /proc/uptime
  [ "${up%.*}" -ge "$end" ] && break
  state=none
  while read -r line; do
    case "$line" in *daas-led*) state=${line##* } ;; esac
  done < /sys/kernel/debug/gpio
  if [ "$state" != "$last" ]; then echo "$up $state"; last=$state; fi
done
"""


def led_changes(machine, seconds):
    """The LED line's changes over the next `seconds` s: [(guest uptime, on)]."""
    output = machine.ssh(LED_SAMPLER.replace("SECONDS", str(int(seconds))), timeout_s=seconds + 60).stdout
    changes = []
    for line in output.splitlines():
        up, state = line.split()
        if state not in ("hi", "lo"):
            raise AssertionError(f"the LED line is not requested by daas (debugfs says {state!r}):\n{output}")
        changes.append((float(up), state == "hi"))
    return changes


def sh(text):
    return shlex.quote(text)


def write_file(machine, path, text, mode="0644", owner="root:root"):
    machine.ssh(
        f"mkdir -p $(dirname {sh(path)}) && printf %s {sh(text)} > {sh(path)}.new && "
        f"chmod {mode} {sh(path)}.new && chown {owner} {sh(path)}.new && mv {sh(path)}.new {sh(path)}"
    )


def configure(machine, smtp_ca_pem):
    """Writes the config, the secrets and the drop-in, then restarts daas."""
    write_file(machine, "/etc/daas/config.toml", CONFIG, "0640", "root:daas")
    with open(smtp_ca_pem, encoding="utf-8") as f:
        write_file(machine, "/etc/daas/smtp-ca.pem", f.read(), "0644")
    machine.ssh("install -d -m 0700 /etc/daas/secrets")
    write_file(machine, "/etc/daas/secrets/hook-url", f"http://{GUEST_HOST}:{HOOK_PORT}/hook", "0600")
    write_file(machine, "/etc/daas/secrets/late-hook-url", f"http://{GUEST_HOST}:{LATE_PORT}/late", "0600")
    write_file(machine, "/etc/daas/secrets/smtp-password", SMTP_PASSWORD, "0600")
    write_file(machine, "/etc/systemd/system/daas.service.d/credentials.conf", CREDENTIALS_DROP_IN)
    # Not `daas check` here: the *_file paths exist only inside the service, where
    # systemd puts the credentials; the start below checks the config the same way.
    # sync: the power cuts that follow must find the admin's files on the disk, not
    # lose them with the page cache (which once cost the credentials drop-in).
    machine.ssh("sync && systemctl daemon-reload && systemctl restart daas", check=False)


def out(result):
    text = result.stdout
    return text.decode() if isinstance(text, bytes) else text


def show(machine, prop):
    """One property of daas.service, as `systemctl show` gives it."""
    return out(machine.ssh(f"systemctl show daas -p {prop} --value")).strip()


def main_pid(machine):
    return int(show(machine, "MainPID"))


def restarts(machine):
    return int(show(machine, "NRestarts"))


def is_active(machine):
    return out(machine.ssh("systemctl is-active daas", check=False)).strip() == "active"


def journal(machine, boot="0", lines=200):
    """The unit's journal of a boot (0: this one, -1: the one before)."""
    result = machine.ssh(f"journalctl -u daas -b {boot} --no-pager -n {lines} -o short-monotonic", check=False)
    return out(result)


def status(machine):
    """`daas status --json` as the daemon's user sees it."""
    return json.loads(out(machine.ssh("runuser -u daas -- daas status --json --config /etc/daas/config.toml")))
