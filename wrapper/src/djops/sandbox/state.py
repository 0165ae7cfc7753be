"""Sandbox host state: the name rules and the state file each host keeps.

``<home>/hosts/<name>/state.json`` holds a host's ``HostState``: its distro, address index,
aliases and the pids of its container once booted.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from djops.errors import UsageError
from djops.sandbox import images, network, system
from djops.sandbox.naming import NAME_RE, NAME_RULE
from djops.sandbox.paths import SandboxPaths

ALIAS_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


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
    if not NAME_RE.fullmatch(name):
        raise UsageError(f"sandbox host name {name!r} is not valid: use {NAME_RULE}")


def validate_alias(alias: str) -> None:
    if not ALIAS_RE.match(alias) or alias.replace(".", "").isdigit():
        raise UsageError(f"alias {alias!r} is not a valid host name (like app.test)")


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


# is_running lives here, not in processes.py: HostState.as_dict reports it, and processes.py
# imports HostState, so there it would make an import cycle.
def is_running(state: HostState) -> bool:
    return (
        system.pid_alive(state.leader_pid)
        and system.pid_alive(state.nspawn_pid)
        and network.netns_exists(network.netns_name(state.name))
    )
