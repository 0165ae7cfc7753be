"""Sandbox hosts: systemd-nspawn containers that boot real systemd, one per name.

Each host runs from an overlay of a cached image, in its own cgroup and network namespace,
with its own machine-id, SSH host keys and hostname. State lives in
``<home>/hosts/<name>/state.json``; everything a host leaves on the controller (process,
cgroups, mount, netns, veth, NAT table, /etc/hosts lines, known_hosts lines) is found again
from that file or from its name, so a killed run can always be cleaned up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from djops.errors import OperationFailed, UsageError
from djops.sandbox import ca, images, names, network, system
from djops.sandbox.paths import SandboxPaths

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
ALIAS_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
BOOT_TIMEOUT = 90.0

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class HostState:
    name: str
    distro: str
    index: int
    aliases: list[str] = field(default_factory=list)
    nspawn_pid: int | None = None
    leader_pid: int | None = None
    created: float = 0.0
    ready: bool = False

    @property
    def address(self) -> str:
        return network.host_address(self.index)

    @property
    def user(self) -> str:
        return images.ADMIN_USER

    def as_dict(self, paths: SandboxPaths) -> dict:
        return {
            "name": self.name,
            "distro": self.distro,
            "address": self.address,
            "aliases": self.aliases,
            "user": self.user,
            "port": 22,
            "identity_file": str(paths.ssh_key),
            "known_hosts": str(paths.known_hosts),
            "state": "running" if is_running(self) else "stopped",
        }


def validate_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise UsageError(
            f"sandbox host name {name!r} is not valid: use 1 to 31 lowercase letters, digits and "
            "hyphens, starting with a letter"
        )


def validate_alias(alias: str) -> None:
    if not ALIAS_RE.match(alias) or alias.replace(".", "").isdigit():
        raise UsageError(f"alias {alias!r} is not a valid host name (like app.test)")


# ---------------------------------------------------------------------------------------------
# state


def _state_file(paths: SandboxPaths, name: str) -> Path:
    return paths.host(name) / "state.json"


def load(paths: SandboxPaths, name: str) -> HostState | None:
    try:
        data = json.loads(_state_file(paths, name).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return HostState(**{k: v for k, v in data.items() if k in HostState.__dataclass_fields__})


def save(paths: SandboxPaths, state: HostState) -> None:
    path = _state_file(paths, state.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    system.write_atomic(path, json.dumps(asdict(state), indent=2) + "\n", mode=0o600)


def all_states(paths: SandboxPaths) -> list[HostState]:
    if not paths.hosts.is_dir():
        return []
    states = (load(paths, p.name) for p in sorted(paths.hosts.iterdir()) if p.is_dir())
    return [s for s in states if s is not None]


def is_running(state: HostState) -> bool:
    return (
        system.pid_alive(state.leader_pid)
        and system.pid_alive(state.nspawn_pid)
        and network.netns_exists(network.netns_name(state.name))
    )


# ---------------------------------------------------------------------------------------------
# cgroups: the controller may have no systemd, so each host gets cgroups of our own making.


def _cgroup_dirs(name: str) -> list[Path]:
    if (CGROUP_ROOT / "cgroup.controllers").exists():  # pure cgroup v2
        return [CGROUP_ROOT / "djops" / name]
    dirs = []
    for hierarchy in ("unified", "systemd"):  # hybrid: both trees systemd inside will look at
        if (CGROUP_ROOT / hierarchy).is_dir():
            dirs.append(CGROUP_ROOT / hierarchy / "djops" / name)
    return dirs


def _cgroup_pids(directory: Path) -> list[int]:
    pids: list[int] = []
    if not directory.is_dir():
        return pids
    for procs in directory.rglob("cgroup.procs"):
        try:
            pids += [int(p) for p in procs.read_text().split()]
        except OSError:
            continue
    return pids


def _remove_cgroups(name: str) -> None:
    for directory in _cgroup_dirs(name):
        if not directory.is_dir():
            continue
        kill = directory / "cgroup.kill"
        if kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
        for pid in _cgroup_pids(directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _cgroup_pids(directory) and time.monotonic() < deadline:
            time.sleep(0.1)
        for sub in sorted(
            (p for p in directory.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)
        ):
            with contextlib.suppress(OSError):
                sub.rmdir()
        try:
            directory.rmdir()
        except OSError as exc:
            raise OperationFailed(f"cannot remove cgroup {directory}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# processes


def _nspawn_pids_for(root: Path) -> list[int]:
    """nspawn processes running this root (or any root below it), found from /proc.

    That finds the containers of a killed run, whose state may be gone.
    """
    prefix = str(root).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"systemd-nspawn") and any(a.startswith(prefix) for a in argv):
            found.append(int(proc.name))
    return found


def _find_leader(nspawn_pid: int, timeout: float = 20.0) -> int:
    """The container's PID 1: the descendant of nspawn whose innermost PID is 1."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not system.pid_alive(nspawn_pid):
            break
        for pid in _descendants(nspawn_pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("NSpid:") and len(line.split()) > 2 and line.split()[-1] == "1":
                    return pid
        time.sleep(0.05)
    raise OperationFailed("the container did not start (see its console log)")


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            out += children
            todo += children
    return out


def _stop_processes(paths: SandboxPaths, state: HostState, log: Log) -> None:
    root = paths.host(state.name) / "root"
    pids = set(_nspawn_pids_for(root))
    if state.nspawn_pid and system.pid_alive(state.nspawn_pid):
        pids.add(state.nspawn_pid)
    for pid in pids:
        # nspawn turns SIGTERM into an orderly poweroff
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while any(system.pid_alive(p) and _is_nspawn(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if system.pid_alive(pid) and _is_nspawn(pid):
            log(f"{state.name}: no clean poweroff after 20 s, killing it")
            os.kill(pid, signal.SIGKILL)
    _remove_cgroups(state.name)


def _is_nspawn(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"systemd-nspawn")
    except (OSError, IndexError):
        return False


# ---------------------------------------------------------------------------------------------
# filesystem


def _mount_root(paths: SandboxPaths, state: HostState, image: Path) -> Path:
    base = paths.host(state.name)
    root, upper, work = base / "root", base / "upper", base / "work"
    for d in (root, upper, work):
        d.mkdir(parents=True, exist_ok=True)
    if not os.path.ismount(root):
        system.run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                f"lowerdir={image},upperdir={upper},workdir={work}",
                str(root),
            ]
        )
    return root


# The apt archive cache is shared through hard links, not a shared directory: apt locks its
# archive directory, so hosts installing at the same moment would refuse each other.
APT_ARCHIVES = Path("var/cache/apt/archives")


def _prefill_apt_cache(paths: SandboxPaths, state: HostState) -> None:
    pool = paths.apt_archives(state.distro)
    target = paths.host(state.name) / "upper" / APT_ARCHIVES
    target.mkdir(parents=True, exist_ok=True)
    for deb in pool.glob("*.deb") if pool.is_dir() else []:
        link = target / deb.name
        if not link.exists():
            os.link(deb, link)


def _harvest_apt_cache(paths: SandboxPaths, state: HostState) -> None:
    """Keep what the host downloaded for the next hosts of the same release."""
    source = paths.host(state.name) / "upper" / APT_ARCHIVES
    if not state.distro or not source.is_dir():
        return
    pool = paths.apt_archives(state.distro)
    pool.mkdir(parents=True, exist_ok=True)
    for deb in source.glob("*.deb"):
        if not (pool / deb.name).exists() and deb.is_file():
            try:
                os.link(deb, pool / deb.name)
            except OSError:
                shutil.copyfile(deb, pool / deb.name)


def _unmount(paths: SandboxPaths, name: str) -> None:
    for point in system.mounted_under(paths.host(name)):
        if not system.ok(["umount", str(point)]):
            system.run(["umount", "--lazy", str(point)], check=False)


def _personalise(paths: SandboxPaths, state: HostState, root: Path) -> None:
    """What a copied root fs carries once and each host needs its own of."""
    (root / "etc/hostname").write_text(f"{state.name}\n")
    (root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    system.run(["ssh-keygen", "-A", "-f", str(root)])
    lines = []
    for pub in sorted((root / "etc/ssh").glob("ssh_host_*_key.pub")):
        keytype, key = pub.read_text().split()[:2]
        lines.append(f"{state.name},{state.address} {keytype} {key}")
    _replace_known_hosts(paths, state, lines)


def _replace_known_hosts(paths: SandboxPaths, state: HostState, new_lines: list[str]) -> None:
    path = paths.known_hosts
    keep = []
    if path.exists():
        for line in path.read_text().splitlines():
            hostnames = line.split(" ", 1)[0].split(",")
            if state.name in hostnames or state.address in hostnames:
                continue
            keep.append(line)
    system.write_atomic(path, "\n".join(keep + new_lines) + ("\n" if keep or new_lines else ""))


# ---------------------------------------------------------------------------------------------
# /etc/hosts everywhere


def _sync_names(paths: SandboxPaths) -> None:
    states = [s for s in all_states(paths) if s.ready or s.leader_pid]
    entries = [(s.address, [s.name, *s.aliases]) for s in sorted(states, key=lambda s: s.index)]
    block = names.render_block(entries)
    names.update_file(names.controller_hosts_file(), block)
    for state in states:
        hosts_file = paths.host(state.name) / "root/etc/hosts"
        if hosts_file.parent.is_dir() and os.path.ismount(paths.host(state.name) / "root"):
            text = hosts_file.read_text() if hosts_file.exists() else ""
            if "localhost" not in text:
                text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + text
            if f"\t{state.name}\n" not in text:
                text = f"127.0.1.1\t{state.name}\n" + text
            new = names.replace_block(text, block)
            if new != (hosts_file.read_text() if hosts_file.exists() else ""):
                system.write_atomic(hosts_file, new)


# ---------------------------------------------------------------------------------------------
# public operations


def up(
    paths: SandboxPaths,
    name: str,
    distro_key: str = images.DEFAULT_DISTRO,
    aliases: list[str] | None = None,
    log: Log = _quiet,
) -> HostState:
    """Boot sandbox host NAME (idempotent: an up host stays as it is, a dead one is rebooted)."""
    validate_name(name)
    distro = images.get_distro(distro_key)
    aliases = list(dict.fromkeys(aliases or []))
    for alias in aliases:
        validate_alias(alias)
    system.require_host()
    paths.home.mkdir(parents=True, exist_ok=True)
    paths.ensure_ssh_key()
    ca.ensure(paths)

    with images.locked(paths.lock("hosts")):
        state = load(paths, name)
        if state and state.distro != distro.key:
            raise UsageError(
                f"sandbox host {name} already exists with {state.distro}; "
                f"run `djops sandbox down {name}` first to make it {distro.key}"
            )
        if state and is_running(state) and state.ready:
            if set(aliases) - set(state.aliases):
                state.aliases = list(dict.fromkeys(state.aliases + aliases))
                save(paths, state)
                _sync_names(paths)
            log(f"{name}: already up ({state.address})")
            return state
        if state:
            log(f"{name}: cleaning up what a previous run left behind")
            _teardown(paths, state, log, keep_disk=state.ready)
        else:
            _teardown_orphans_named(paths, name, log)
        used = {s.index for s in all_states(paths) if s.name != name}
        if state and state.index not in used:
            index = state.index
        else:
            free = [i for i in range(1, network.MAX_HOSTS + 1) if i not in used]
            if not free:
                raise OperationFailed(f"all {network.MAX_HOSTS} sandbox addresses are in use")
            index = free[0]
        keep_aliases = state.aliases if state else []
        state = HostState(
            name=name,
            distro=distro.key,
            index=index,
            aliases=list(dict.fromkeys(keep_aliases + aliases)),
            created=time.time(),
        )
        # A veth of that index left by a killed run would make nspawn fail.
        network.detach(name, index)
        save(paths, state)

    image = images.ensure_image(paths, distro, log=log)
    started = time.monotonic()
    try:
        _boot(paths, state, image)
    except BaseException:
        log(f"{name}: boot failed; removing what it left")
        with images.locked(paths.lock("hosts")):
            _teardown(paths, state, _quiet, keep_disk=False)
        raise
    log(f"{name}: up at {state.address} ({distro.key}) in {time.monotonic() - started:.1f} s")
    return state


def _boot(paths: SandboxPaths, state: HostState, image: Path) -> None:
    _prefill_apt_cache(paths, state)
    root = _mount_root(paths, state, image)
    _personalise(paths, state, root)
    with images.locked(paths.lock("hosts")):
        network.ensure_range_routing()
        network.ensure_nat()
    cgroups = _cgroup_dirs(state.name)
    for directory in cgroups:
        directory.mkdir(parents=True, exist_ok=True)
    argv = [
        shutil.which("systemd-nspawn") or "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        "--boot",
        "-D",
        str(root),
        "-M",
        state.name,
        "--resolv-conf=copy-host",
        "--timezone=off",
        "--link-journal=no",
        "--console=read-only",
        f"--network-veth-extra={network.veth_name(state.index)}:eth0",
    ]
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        # systemd ≥ 256 refuses a v1 hierarchy; Debian 12's boots fine on v2 too.
        "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1",
    }

    def enter_own_cgroups() -> None:
        os.setsid()
        for directory in cgroups:
            (directory / "cgroup.procs").write_text(str(os.getpid()))

    console = (paths.host(state.name) / "console.log").open("ab")
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=enter_own_cgroups,
            close_fds=True,
        )
    finally:
        console.close()
    state.nspawn_pid = proc.pid
    save(paths, state)
    state.leader_pid = _find_leader(proc.pid)
    save(paths, state)
    network.attach(state.name, state.index, state.leader_pid)
    _wait_booted(paths, state)
    state.ready = True
    with images.locked(paths.lock("hosts")):
        save(paths, state)
        _sync_names(paths)
    _wait_ssh(paths, state)


def _console_tail(paths: SandboxPaths, name: str) -> str:
    log_file = paths.host(name) / "console.log"
    lines = log_file.read_text(errors="replace").strip().splitlines() if log_file.exists() else []
    return " | ".join(lines[-3:]) or "no console output"


def _wait_booted(paths: SandboxPaths, state: HostState) -> None:
    enter = ["nsenter", "-t", str(state.leader_pid), "-m", "-u", "-i", "-n", "-p"]
    deadline = time.monotonic() + BOOT_TIMEOUT
    status = ""
    while time.monotonic() < deadline:
        if not system.pid_alive(state.nspawn_pid):
            tail = _console_tail(paths, state.name)
            raise OperationFailed(f"{state.name}: the container stopped while booting: {tail}")
        proc = system.run([*enter, "systemctl", "is-system-running"], check=False, timeout=10)
        status = proc.stdout.strip()
        if status in ("running", "degraded"):
            if status == "degraded":
                failed = system.run(
                    [*enter, "systemctl", "--failed", "--no-legend", "--plain"], check=False
                ).stdout.split()
                units = [u for u in failed if u.endswith((".service", ".socket", ".mount"))]
                raise OperationFailed(f"{state.name}: booted with failed units: {' '.join(units)}")
            return
        time.sleep(0.1)
    raise OperationFailed(
        f"{state.name}: not booted after {BOOT_TIMEOUT:.0f} s (systemd says {status or 'nothing'})"
    )


def ssh_argv(paths: SandboxPaths, state: HostState, *, batch: bool = True) -> list[str]:
    argv = [
        "ssh",
        "-i",
        str(paths.ssh_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={paths.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=5",
        "-o",
        "LogLevel=ERROR",
    ]
    if batch:
        argv += ["-o", "BatchMode=yes"]
    return [*argv, f"{state.user}@{state.address}"]


def _wait_ssh(paths: SandboxPaths, state: HostState) -> None:
    deadline = time.monotonic() + 30
    last = ""
    while time.monotonic() < deadline:
        proc = system.run([*ssh_argv(paths, state), "true"], check=False, timeout=15)
        if proc.returncode == 0:
            return
        last = proc.stderr.strip()
        time.sleep(0.2)
    raise OperationFailed(f"{state.name}: SSH does not answer at {state.address}: {last}")


def _teardown(paths: SandboxPaths, state: HostState, log: Log, *, keep_disk: bool) -> None:
    _stop_processes(paths, state, log)
    network.detach(state.name, state.index)
    _unmount(paths, state.name)
    _harvest_apt_cache(paths, state)
    if keep_disk:
        state.nspawn_pid = state.leader_pid = None
        save(paths, state)
    else:
        shutil.rmtree(paths.host(state.name), ignore_errors=True)
        _replace_known_hosts(paths, state, [])


def _teardown_orphans_named(paths: SandboxPaths, name: str, log: Log) -> None:
    """Leftovers of a run killed before it wrote any state (or whose state was deleted)."""
    ghost = HostState(name=name, distro="", index=0)
    root = paths.host(name) / "root"
    if _nspawn_pids_for(root) or any(d.exists() for d in _cgroup_dirs(name)):
        log(f"{name}: stopping a container left by an earlier run")
        _stop_processes(paths, ghost, log)
    network.detach(name, None)
    _unmount(paths, name)
    if paths.host(name).exists():
        shutil.rmtree(paths.host(name), ignore_errors=True)


def down(paths: SandboxPaths, name: str, log: Log = _quiet) -> bool:
    """Stop NAME and remove everything it left; False when there was nothing to remove."""
    validate_name(name)
    system.require_host()
    with images.locked(paths.lock("hosts")):
        state = load(paths, name)
        existed = state is not None or paths.host(name).exists()
        if state:
            _teardown(paths, state, log, keep_disk=False)
        _teardown_orphans_named(paths, name, log)
        _sync_names(paths)
        if not all_states(paths):
            _remove_shared()
    return existed


def down_all(paths: SandboxPaths, log: Log = _quiet) -> list[str]:
    system.require_host()
    removed = []
    with images.locked(paths.lock("hosts")):
        dirs = sorted(p.name for p in paths.hosts.iterdir()) if paths.hosts.is_dir() else []
        for name in dirs:
            state = load(paths, name)
            if state:
                _teardown(paths, state, log, keep_disk=False)
            _teardown_orphans_named(paths, name, log)
            removed.append(name)
        # Whatever else carries our names: killed runs whose state directory is gone.
        for ns in network.leftover_netns():
            system.run(["ip", "netns", "delete", ns], check=False)
        for link in network.leftover_links():
            system.run(["ip", "link", "delete", link], check=False)
        for top in {d.parent for d in _cgroup_dirs("x")}:
            if top.is_dir():
                for child in top.iterdir():
                    if child.is_dir():
                        _remove_cgroups(child.name)
        _unmount_all(paths)
        names.update_file(names.controller_hosts_file(), "")
        if paths.known_hosts.exists():
            paths.known_hosts.unlink()
        _remove_shared()
    return removed


def _unmount_all(paths: SandboxPaths) -> None:
    for point in system.mounted_under(paths.hosts):
        if not system.ok(["umount", str(point)]):
            system.run(["umount", "--lazy", str(point)], check=False)


def _remove_shared() -> None:
    """With no host left: drop the NAT table and our cgroup parents; keep the unreachable route."""
    network.remove_nat()
    for directory in {d.parent for d in _cgroup_dirs("x")}:
        with contextlib.suppress(OSError):
            directory.rmdir()


def leftovers(paths: SandboxPaths) -> dict[str, list[str]]:
    """Everything sandbox hosts can leave on the controller, by kind: empty lists when clean.

    The unreachable route for the whole range is not a leftover: it stays on purpose.
    """
    hosts_file = names.controller_hosts_file()
    hosts_text = hosts_file.read_text() if hosts_file.exists() else ""
    cgroup_tops = {d.parent for d in _cgroup_dirs("x")}
    return {
        "host directories": sorted(p.name for p in paths.hosts.iterdir())
        if paths.hosts.is_dir()
        else [],
        "processes": [
            str(pid) for pid in _nspawn_pids_for(paths.hosts) if _state_letter(pid) not in ("Z", "")
        ],
        "network namespaces": network.leftover_netns(),
        "veth links": network.leftover_links(),
        "cgroups": sorted(str(d) for d in cgroup_tops if d.exists()),
        "mounts": [str(p) for p in system.mounted_under(paths.hosts)],
        "nat table": [network.NFT_TABLE] if network.table_exists() else [],
        "hosts file lines": [line for line in hosts_text.splitlines() if "djops sandbox" in line],
        "known_hosts": [str(paths.known_hosts)] if paths.known_hosts.exists() else [],
    }


def host_leftovers(paths: SandboxPaths, name: str, index: int) -> dict[str, list[str]]:
    """What one host could leave behind after `down NAME`: empty lists when clean."""
    hosts_file = names.controller_hosts_file()
    hosts_text = hosts_file.read_text() if hosts_file.exists() else ""
    known = paths.known_hosts.read_text() if paths.known_hosts.exists() else ""
    root = paths.host(name) / "root"
    return {
        "host directory": [str(paths.host(name))] if paths.host(name).exists() else [],
        "processes": [str(p) for p in _nspawn_pids_for(root) if _state_letter(p) not in ("Z", "")],
        "network namespace": [n for n in network.leftover_netns() if n == network.netns_name(name)],
        "veth link": [n for n in network.leftover_links() if n == network.veth_name(index)],
        "cgroups": [str(d) for d in _cgroup_dirs(name) if d.exists()],
        "mounts": [str(p) for p in system.mounted_under(paths.host(name))],
        "hosts file lines": [ln for ln in hosts_text.splitlines() if name in ln.split()],
        "known_hosts lines": [
            ln for ln in known.splitlines() if name in ln.split(" ")[0].split(",")
        ],
    }


def _state_letter(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]
