"""Sandbox hosts: systemd-nspawn containers that boot real systemd, one per name.

Each host runs from an overlay of a cached image, in its own cgroup and network namespace,
with its own machine-id, SSH host keys and hostname. State lives in
``<home>/hosts/<name>/state.json``; everything a host leaves on the controller (process,
cgroups, mount, netns, veth, NAT table, /etc/hosts lines, known_hosts lines) is found again
from that file or from its name, so a killed run can always be cleaned up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from djops.errors import OperationFailed, UsageError
from djops.sandbox import ca, images, names, network, processes, rootfs, system
from djops.sandbox.paths import SandboxPaths
from djops.sandbox.processes import Log
from djops.sandbox.state import (
    HostState,
    all_states,
    is_running,
    load,
    save,
    validate_alias,
    validate_name,
)

BOOT_TIMEOUT = 90.0


def _quiet(_: str) -> None:
    pass


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
    rootfs.prefill_apt_cache(paths, state)
    root = rootfs.mount_root(paths, state, image)
    rootfs.personalise(paths, state, root)
    with images.locked(paths.lock("hosts")):
        network.ensure_range_routing()
        network.ensure_nat()
    cgroups = processes.cgroup_dirs(state.name)
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
    state.leader_pid = processes.find_leader(proc.pid)
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
        *paths.ssh_options,
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
    processes.stop_processes(paths, state, log)
    network.detach(state.name, state.index)
    rootfs.unmount(paths, state.name)
    rootfs.harvest_apt_cache(paths, state)
    if keep_disk:
        state.nspawn_pid = state.leader_pid = None
        save(paths, state)
    else:
        shutil.rmtree(paths.host(state.name), ignore_errors=True)
        rootfs.replace_known_hosts(paths, state, [])


def _teardown_orphans_named(paths: SandboxPaths, name: str, log: Log) -> None:
    """Leftovers of a run killed before it wrote any state (or whose state was deleted)."""
    ghost = HostState(name=name, distro="", index=0)
    root = paths.host(name) / "root"
    if processes.nspawn_pids_for(root) or any(d.exists() for d in processes.cgroup_dirs(name)):
        log(f"{name}: stopping a container left by an earlier run")
        processes.stop_processes(paths, ghost, log)
    network.detach(name, None)
    rootfs.unmount(paths, name)
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
        for top in {d.parent for d in processes.cgroup_dirs("x")}:
            if top.is_dir():
                for child in top.iterdir():
                    if child.is_dir():
                        processes.remove_cgroups(child.name)
        rootfs.unmount_all(paths)
        names.update_file(names.controller_hosts_file(), "")
        if paths.known_hosts.exists():
            paths.known_hosts.unlink()
        _remove_shared()
    return removed


def _remove_shared() -> None:
    """With no host left: drop the NAT table and our cgroup parents; keep the unreachable route."""
    network.remove_nat()
    for directory in {d.parent for d in processes.cgroup_dirs("x")}:
        with contextlib.suppress(OSError):
            directory.rmdir()
