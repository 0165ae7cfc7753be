"""Sandbox host processes: the nspawn process, the container's PID 1 and the host's cgroups.

All of them are found again from /proc and /sys/fs/cgroup, so the processes of a killed run can
be stopped even when its state file is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from djops.errors import OperationFailed
from djops.sandbox import system
from djops.sandbox.paths import SandboxPaths
from djops.sandbox.state import HostState

CGROUP_ROOT = Path("/sys/fs/cgroup")

Log = Callable[[str], None]


# ---------------------------------------------------------------------------------------------
# cgroups: the controller may have no systemd, so each host gets cgroups of our own making.


def cgroup_dirs(name: str) -> list[Path]:
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


def remove_cgroups(name: str) -> None:
    for directory in cgroup_dirs(name):
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


def nspawn_pids_for(root: Path) -> list[int]:
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


def find_leader(nspawn_pid: int, timeout: float = 20.0) -> int:
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


def stop_processes(paths: SandboxPaths, state: HostState, log: Log) -> None:
    root = paths.host(state.name) / "root"
    pids = set(nspawn_pids_for(root))
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
    remove_cgroups(state.name)


def _is_nspawn(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"systemd-nspawn")
    except (OSError, IndexError):
        return False


def state_letter(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]
