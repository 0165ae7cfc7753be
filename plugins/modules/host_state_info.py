#!/usr/bin/python
# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Module djops.django.host_state_info: one read of everything the base role manages."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state_info
short_description: Read the state of the files, packages, services and users a role manages
description:
  - Reads the state of the given files, directories, packages, systemd units, kernel settings,
    users and groups, and a few facts the hardening of the role C(djops.django.base) needs (the
    OpenSSH version and host keys, which sudo is installed, cron's files, swap).
  - The role calls it once per run and then calls a module only where the host differs from
    what it should be; most runs change nothing, and one look is much faster than a module call
    per file, package, user and service.
  - Changes nothing on the host.
version_added: 0.2.0
author: djops maintainers (@djops)
options:
  files:
    description: Files whose SHA-1, mode, owner and group to report (null for a missing file).
    type: list
    elements: path
    default: []
  dirs:
    description: Paths to report as directories or not.
    type: list
    elements: path
    default: []
  texts:
    description: Small text files to return whole (null for a missing file).
    type: list
    elements: path
    default: []
  packages:
    description:
      - Debian packages to report on, each as dpkg's status (C(installed), C(config-files), …)
        or C(absent).
    type: list
    elements: str
    default: []
  units:
    description: systemd units whose C(is-enabled) and C(is-active) answers to report.
    type: list
    elements: str
    default: []
  unit_configs:
    description:
      - Units mapped to a configuration file of theirs. A unit running since before its file
        changed (a run that stopped between writing the file and restarting the unit) is
        reported in RV(state.stale).
    type: dict
    default: {}
  sysctl:
    description: Kernel settings (C(net.ipv4.ip_forward)) whose values to report.
    type: list
    elements: str
    default: []
  users:
    description: Users whose account, groups, home directory mode and authorized keys to report.
    type: list
    elements: str
    default: []
  groups:
    description: Groups to report as existing or not.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only, in check mode as otherwise.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: debian
notes:
  - Needs C(dpkg-query) and C(systemctl) on the host (Debian and Ubuntu).
seealso:
  - module: ansible.builtin.stat
  - module: ansible.builtin.package_facts
  - module: ansible.builtin.service_facts
"""

EXAMPLES = r"""
- name: Read the state of what the role manages
  djops.django.host_state_info:
    files: [/etc/ssh/sshd_config]
    packages: [nftables, fail2ban]
    units: [nftables.service]
    unit_configs:
      nftables.service: /etc/nftables.conf
    sysctl: [kernel.kptr_restrict]
    users: [deploy]
  register: state

- name: Install fail2ban when it is missing
  ansible.builtin.apt:
    name: fail2ban
  when: state.state.packages.fail2ban != 'installed'
"""

RETURN = r"""
state:
  description: What the host looks like.
  returned: always
  type: dict
  contains:
    files:
      description:
        - Each file of O(files) with C(sha1), C(mode), C(owner) and C(group), or null when it
          is missing.
      type: dict
      sample: {"/etc/issue": {"sha1": "2a9c…", "mode": "0644", "owner": "root", "group": "root"}}
    dirs:
      description: Each path of O(dirs) mapped to whether it is a directory.
      type: dict
      sample: {"/etc/ssh/sshd_config.d": true}
    texts:
      description: Each file of O(texts) with its content, or null when missing.
      type: dict
    packages:
      description: Each package of O(packages) with dpkg's status of it, or C(absent).
      type: dict
      sample: {"nftables": "installed", "telnet": "absent"}
    units:
      description:
        - Each unit of O(units) with its C(enabled) and C(active) states, in systemctl's words.
      type: dict
      sample: {"nftables.service": {"enabled": "enabled", "active": "active"}}
    stale:
      description:
        - Services that run an older configuration than they should, from O(unit_configs) and
          known cases (C(fail2ban) after journald restarted, C(nftables) without its table,
          C(systemd) without the core dump limit, C(pam) without faillock).
      type: list
      elements: str
    sysctl:
      description:
        - Each key of O(sysctl) with its value, whitespace folded, or C(=missing) or
          C(=read-only) when it cannot be set here (as in a container).
      type: dict
    ssh:
      description:
        - The OpenSSH C(version), its C(host_keys) (type to bits), C(socket) (whether ssh.socket
          is enabled) and C(run_dir) (whether /run/sshd exists).
      type: dict
    sudo:
      description: C(sudo), C(sudo-rs) or an empty string when neither answers.
      type: str
    users:
      description:
        - Each existing user of O(users) with C(shell), C(home), C(gecos), C(group), C(groups),
          C(home_mode) and C(authorized_keys); users that do not exist are left out.
      type: dict
    groups:
      description: The groups of O(groups) that exist.
      type: list
      elements: str
    cron:
      description: C(/etc/crontab) and C(/etc/cron.*) with their C(mode) and whether each C(isdir).
      type: dict
    swaps:
      description: The active swap devices and files.
      type: list
      elements: str
"""

import grp
import hashlib
import os
import pwd
import re
import stat
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djops.django.plugins.module_utils.dpkg import query_argv, statuses


class Host:
    """Reads of the host, through the module's run_command."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module

    def run(self, *argv: str) -> tuple[int, str]:
        """Exit code and output (stdout and stderr) of a command; 127 when it is missing."""
        if not self.module.get_bin_path(argv[0]):
            return 127, ""
        rc, out, err = self.module.run_command(list(argv), check_rc=False)
        return rc, (out + err).strip()

    def first_line(self, *argv: str) -> str:
        return self.run(*argv)[1].split("\n")[0]

    def started_at(self, unit: str) -> int | None:
        out = self.run(
            "systemctl", "show", "--property", "ActiveEnterTimestamp", "--timestamp=unix", unit
        )[1]
        match = re.search(r"@(\d+)", out)
        return int(match.group(1)) if match else None


def mode_of(info: os.stat_result) -> str:
    return f"{stat.S_IMODE(info.st_mode):04o}"


def file_state(path: str) -> dict[str, str] | None:
    try:
        info = Path(path).stat()
        # SHA-1 as ansible.builtin.stat and copy report it: a change check, not a signature.
        digest = hashlib.sha1(Path(path).read_bytes()).hexdigest()  # noqa: S324
    except OSError:
        return None
    return {
        "sha1": digest,
        "mode": mode_of(info),
        "owner": pwd.getpwuid(info.st_uid).pw_name,
        "group": grp.getgrgid(info.st_gid).gr_name,
    }


def read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None


def packages(host: Host, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    found = statuses(host.run(*query_argv(names))[1])
    return {name: found.get(name, "absent") for name in names}


def units(host: Host, names: list[str]) -> dict[str, dict[str, str]]:
    return {
        name: {
            "enabled": host.first_line("systemctl", "is-enabled", name),
            "active": host.first_line("systemctl", "is-active", name),
        }
        for name in names
    }


def stale(
    host: Host, unit_configs: dict[str, str], unit_state: dict[str, dict[str, str]]
) -> list[str]:
    """Services that run an older configuration than their files: a run stopped in between."""
    found = []
    for unit, path in unit_configs.items():
        running = unit_state.get(unit, {}).get("active") == "active"
        since = host.started_at(unit) if running else None
        if since is not None and Path(path).exists() and Path(path).stat().st_mtime > since + 1:
            found.append(unit)
    # fail2ban reads the journal: a journald restarted after it leaves it reading the old files.
    journald, fail2ban = host.started_at("systemd-journald"), host.started_at("fail2ban")
    if fail2ban and journald and journald > fail2ban and "fail2ban" not in found:
        found.append("fail2ban")
    nft_table = ("nft", "list", "table", "inet", "djops_base")
    if Path("/etc/nftables.conf").exists() and host.run(*nft_table)[0] != 0:
        found.append("nftables")
    if (
        Path("/etc/systemd/system.conf.d/50-djops-coredump.conf").exists()
        and host.run("systemctl", "show", "--property", "DefaultLimitCORE", "--value")[1] != "0"
    ):
        found.append("systemd")
    if "pam_faillock" not in (read_text("/etc/pam.d/common-auth") or ""):
        found.append("pam")
    return found


def sysctl(keys: list[str], proc_sys: str = "/proc/sys") -> dict[str, str]:
    values = {}
    for key in keys:
        path = Path(proc_sys, *key.split("."))
        if not path.exists():
            values[key] = "=missing"
        elif not os.access(path, os.W_OK):
            values[key] = "=read-only"
        else:
            values[key] = " ".join((read_text(path) or "").split())
    return values


def ssh(host: Host, etc_ssh: str = "/etc/ssh") -> dict:
    match = re.search(r"OpenSSH_(\d+\.\d+)", host.run("ssh", "-V")[1])
    keys = {}
    for path in sorted(Path(etc_ssh).glob("ssh_host_*_key.pub")):
        if path.is_file():
            parts = host.run("ssh-keygen", "-l", "-f", str(path))[1].split()
            if parts and parts[0].isdigit():
                keys[parts[-1].strip("()")] = int(parts[0])
    return {
        "version": match.group(1) if match else "",
        "host_keys": keys,
        "socket": host.first_line("systemctl", "is-enabled", "ssh.socket"),
        "run_dir": Path("/run/sshd").is_dir(),
    }


def sudo(host: Host) -> str:
    # sudo-rs (Ubuntu 25.10 and later) refuses settings it does not have, such as logfile.
    first = host.first_line("sudo", "--version")
    if first.startswith("Sudo version"):
        return "sudo"
    return "sudo-rs" if first.startswith("sudo-rs") else ""


def users(names: list[str]) -> dict[str, dict]:
    state = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        home = Path(entry.pw_dir)
        home_mode = mode_of(home.stat()) if home.is_dir() else None
        keys = read_text(str(home / ".ssh" / "authorized_keys")) or ""
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


def cron(etc: str = "/etc") -> dict[str, dict]:
    found = {}
    for path in sorted(Path(etc).iterdir()):
        if path.name == "crontab" or path.name.startswith("cron."):
            found[str(path)] = {"mode": mode_of(path.stat()), "isdir": path.is_dir()}
    return found


def swaps(text: str | None) -> list[str]:
    return [line.split()[0] for line in (text or "").splitlines()[1:] if line.split()]


def read_state(host: Host, params: dict) -> dict:
    unit_state = units(host, params["units"])
    existing_groups = {g.gr_name for g in grp.getgrall()}
    return {
        "files": {path: file_state(path) for path in params["files"]},
        "dirs": {path: Path(path).is_dir() for path in params["dirs"]},
        "texts": {path: read_text(path) for path in params["texts"]},
        "packages": packages(host, params["packages"]),
        "units": unit_state,
        "stale": stale(host, params["unit_configs"], unit_state),
        "sysctl": sysctl(params["sysctl"]),
        "ssh": ssh(host),
        "sudo": sudo(host),
        "users": users(params["users"]),
        "groups": sorted(g for g in params["groups"] if g in existing_groups),
        "cron": cron(),
        "swaps": swaps(read_text("/proc/swaps")),
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "list", "elements": "path", "default": []},
            "dirs": {"type": "list", "elements": "path", "default": []},
            "texts": {"type": "list", "elements": "path", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "unit_configs": {"type": "dict", "default": {}},
            "sysctl": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "str", "default": []},
            "groups": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    # Output in the C locale: systemctl and ssh are read by their English words.
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    module.exit_json(changed=False, state=read_state(Host(module), module.params))


if __name__ == "__main__":
    main()
