"""Small wrappers around the host tools the sandbox drives (ip, nft, mount, …)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from djops.errors import OperationFailed, UsageError

# Tool → Debian/Ubuntu package that provides it, so a missing tool names its package.
REQUIRED_TOOLS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "nft": "nftables",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "nsenter": "util-linux",
    "mount": "mount",
    "dpkg-deb": "dpkg",
}


def require_host() -> None:
    """Refuse early, in one line, when this machine cannot run sandbox hosts."""
    if platform.system() != "Linux":
        raise UsageError(f"sandbox hosts need Linux (systemd-nspawn); this is {platform.system()}")
    if os.geteuid() != 0:
        raise UsageError("sandbox hosts need root (containers, network namespaces): run with sudo")
    missing = sorted({pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        names = " ".join(missing)
        raise UsageError(f"missing host packages: {names} (install with: apt-get install {names})")
    if not Path("/proc/filesystems").read_text().count("overlay"):
        raise UsageError("the kernel has no overlay filesystem (modprobe overlay)")


def run(
    args: Sequence[str],
    *,
    check: bool = True,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output, and raise a readable error when it fails."""
    try:
        proc = subprocess.run(
            list(args),
            input=input,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise OperationFailed(f"{args[0]}: command not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise OperationFailed(f"{' '.join(args)}: no answer after {timeout:.0f} s") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit code {proc.returncode}"
        raise OperationFailed(f"{' '.join(args[:4])}…: {last}")
    return proc


def ok(args: Sequence[str]) -> bool:
    """True when the command succeeds; for probes whose failure is an answer."""
    return run(args, check=False).returncode == 0


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mounted_under(prefix: Path) -> list[Path]:
    """Mount points at or below prefix, deepest first (the order to unmount them)."""
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        mountpoint = line.split()[1].replace("\\040", " ")
        path = Path(mountpoint)
        if path == prefix or prefix in path.parents:
            points.append(path)
    return sorted(points, key=lambda p: len(p.parts), reverse=True)


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace a file's content in one step; falls back to an in-place write for bind mounts."""
    tmp = path.with_name(f".{path.name}.djops-tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    try:
        tmp.replace(path)
    except OSError:
        # /etc/hosts is often a bind mount (containers, CI runners): rename fails with EBUSY.
        tmp.unlink(missing_ok=True)
        path.write_text(text)
