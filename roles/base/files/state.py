"""Read, in one go, the state of everything the base role manages; print it as JSON.

The role asks for it once per run (a JSON request on stdin) and then calls a module only where
the host differs from what it should be: most runs change nothing, and one look is much faster
than a module call per file, package, user and service. Changes nothing on the host.
"""

import grp
import hashlib
import json
import os
import pwd
import re
import stat
import subprocess
import sys


def run(*argv):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return 127, ""
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def file_state(path):
    try:
        info = os.stat(path)
        with open(path, "rb") as handle:
            digest = hashlib.sha1(handle.read()).hexdigest()
    except OSError:
        return None
    return {
        "sha1": digest,
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "owner": pwd.getpwuid(info.st_uid).pw_name,
        "group": grp.getgrgid(info.st_gid).gr_name,
    }


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except OSError:
        return None


def packages(names):
    found = dict.fromkeys(names, "absent")
    if names:
        _, out = run("dpkg-query", "--show", "--showformat", "${Package} ${db:Status-Status}\n", *names)
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in found:
                found[parts[0]] = parts[1]
    return found


def units(names):
    state = {}
    for name in names:
        state[name] = {
            "enabled": run("systemctl", "is-enabled", name)[1].split("\n")[0],
            "active": run("systemctl", "is-active", name)[1].split("\n")[0],
        }
    return state


def started_at(unit):
    _, out = run("systemctl", "show", "--property", "ActiveEnterTimestamp", "--timestamp=unix", unit)
    match = re.search(r"@(\d+)", out)
    return int(match.group(1)) if match else None


def stale(unit_configs, unit_state):
    """Services that run an older configuration than their files: a run stopped in between."""
    found = []
    for unit, path in unit_configs.items():
        since = started_at(unit) if unit_state.get(unit, {}).get("active") == "active" else None
        if since is not None and os.path.exists(path) and os.stat(path).st_mtime > since + 1:
            found.append(unit)
    # fail2ban reads the journal: a journald restarted after it leaves it reading the old files.
    journald, fail2ban = started_at("systemd-journald"), started_at("fail2ban")
    if fail2ban and journald and journald > fail2ban and "fail2ban" not in found:
        found.append("fail2ban")
    if os.path.exists("/etc/nftables.conf") and run("nft", "list", "table", "inet", "djops_base")[0] != 0:
        found.append("nftables")
    if (
        os.path.exists("/etc/systemd/system.conf.d/50-djops-coredump.conf")
        and run("systemctl", "show", "--property", "DefaultLimitCORE", "--value")[1] != "0"
    ):
        found.append("systemd")
    if "pam_faillock" not in (read_text("/etc/pam.d/common-auth") or ""):
        found.append("pam")
    return found


def sysctl(keys):
    values = {}
    for key in keys:
        path = "/proc/sys/" + key.replace(".", "/")
        if not os.path.exists(path):
            values[key] = "=missing"
        elif not os.access(path, os.W_OK):
            values[key] = "=read-only"
        else:
            values[key] = " ".join((read_text(path) or "").split())
    return values


def ssh():
    _, version = run("ssh", "-V")
    match = re.search(r"OpenSSH_(\d+\.\d+)", version)
    keys = {}
    for name in sorted(os.listdir("/etc/ssh")) if os.path.isdir("/etc/ssh") else []:
        if name.startswith("ssh_host_") and name.endswith("_key.pub"):
            _, out = run("ssh-keygen", "-l", "-f", os.path.join("/etc/ssh", name))
            parts = out.split()
            if parts and parts[0].isdigit():
                keys[parts[-1].strip("()")] = int(parts[0])
    return {
        "version": match.group(1) if match else "",
        "host_keys": keys,
        "socket": run("systemctl", "is-enabled", "ssh.socket")[1].split("\n")[0],
        "run_dir": os.path.isdir("/run/sshd"),
    }


def sudo():
    # sudo-rs (Ubuntu 25.10 and later) refuses settings it does not have, such as logfile.
    _, version = run("sudo", "--version")
    first = version.split("\n")[0]
    if first.startswith("Sudo version"):
        return "sudo"
    return "sudo-rs" if first.startswith("sudo-rs") else ""


def users(names):
    state = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        home_mode = None
        if os.path.isdir(entry.pw_dir):
            home_mode = f"{stat.S_IMODE(os.stat(entry.pw_dir).st_mode):04o}"
        keys = read_text(os.path.join(entry.pw_dir, ".ssh", "authorized_keys")) or ""
        state[name] = {
            "shell": entry.pw_shell,
            "home": entry.pw_dir,
            "gecos": entry.pw_gecos,
            "group": grp.getgrgid(entry.pw_gid).gr_name,
            "groups": sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem),
            "home_mode": home_mode,
            "authorized_keys": [line.strip() for line in keys.splitlines() if line.strip()],
        }
    return state


def main():
    request = json.load(sys.stdin)
    unit_state = units(request.get("units", []))
    existing_groups = {g.gr_name for g in grp.getgrall()}
    cron = {}
    for name in sorted(os.listdir("/etc")):
        if name == "crontab" or name.startswith("cron."):
            path = os.path.join("/etc", name)
            cron[path] = {"mode": f"{stat.S_IMODE(os.stat(path).st_mode):04o}", "isdir": os.path.isdir(path)}
    swaps = [line.split()[0] for line in (read_text("/proc/swaps") or "").splitlines()[1:] if line.split()]
    json.dump(
        {
            "files": {path: file_state(path) for path in request.get("files", [])},
            "dirs": {path: os.path.isdir(path) for path in request.get("dirs", [])},
            "texts": {path: read_text(path) for path in request.get("texts", [])},
            "packages": packages(request.get("packages", [])),
            "units": unit_state,
            "stale": stale(request.get("unit_configs", {}), unit_state),
            "sysctl": sysctl(request.get("sysctl", [])),
            "ssh": ssh(),
            "sudo": sudo(),
            "users": users(request.get("users", [])),
            "groups": sorted(g for g in request.get("groups", []) if g in existing_groups),
            "cron": cron,
            "swaps": swaps,
        },
        sys.stdout,
    )


main()
