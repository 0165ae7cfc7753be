"""Sandbox host root file systems: the overlay over the image and what each host changes in it.

Mounting and unmounting the overlay, the shared apt archive cache, and the personalisation
(hostname, machine-id, SSH host keys, recorded in the sandbox's known_hosts file).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from djops.sandbox import system
from djops.sandbox.paths import SandboxPaths
from djops.sandbox.state import HostState


def mount_root(paths: SandboxPaths, state: HostState, image: Path) -> Path:
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


def prefill_apt_cache(paths: SandboxPaths, state: HostState) -> None:
    pool = paths.apt_archives(state.distro)
    target = paths.host(state.name) / "upper" / APT_ARCHIVES
    target.mkdir(parents=True, exist_ok=True)
    for deb in pool.glob("*.deb") if pool.is_dir() else []:
        link = target / deb.name
        if not link.exists():
            os.link(deb, link)


def harvest_apt_cache(paths: SandboxPaths, state: HostState) -> None:
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


def unmount(paths: SandboxPaths, name: str) -> None:
    for point in system.mounted_under(paths.host(name)):
        if not system.ok(["umount", str(point)]):
            system.run(["umount", "--lazy", str(point)], check=False)


def unmount_all(paths: SandboxPaths) -> None:
    for point in system.mounted_under(paths.hosts):
        if not system.ok(["umount", str(point)]):
            system.run(["umount", "--lazy", str(point)], check=False)


def personalise(paths: SandboxPaths, state: HostState, root: Path) -> None:
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
    replace_known_hosts(paths, state, lines)


def replace_known_hosts(paths: SandboxPaths, state: HostState, new_lines: list[str]) -> None:
    path = paths.known_hosts
    keep = []
    if path.exists():
        for line in path.read_text().splitlines():
            hostnames = line.split(" ", 1)[0].split(",")
            if state.name in hostnames or state.address in hostnames:
                continue
            keep.append(line)
    system.write_atomic(path, "\n".join(keep + new_lines) + ("\n" if keep or new_lines else ""))
