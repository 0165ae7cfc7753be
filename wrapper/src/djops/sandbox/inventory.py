"""Ansible inventory for sandbox hosts.

Host-key checking stays on: each host's keys are recorded in a known_hosts file of the
sandbox's own when it boots, and the inventory points SSH at that file.
"""

from __future__ import annotations

import shlex

from djops.errors import UsageError
from djops.sandbox.paths import SandboxPaths
from djops.sandbox.state import HostState, all_states


def host_vars(paths: SandboxPaths, state: HostState) -> dict:
    return {
        "ansible_host": state.address,
        "ansible_user": state.user,
        "ansible_port": 22,
        "ansible_ssh_private_key_file": str(paths.ssh_key),
        "ansible_ssh_common_args": shlex.join(paths.ssh_options),
        "ansible_python_interpreter": "/usr/bin/python3",
        "djops_sandbox_distro": state.distro,
        "djops_sandbox_aliases": list(state.aliases),
    }


def build(paths: SandboxPaths, names: list[str]) -> dict:
    states = {s.name: s for s in all_states(paths)}
    unknown = [n for n in names if n not in states]
    if unknown:
        raise UsageError(
            f"no sandbox host named {', '.join(unknown)} (up: {', '.join(states) or 'none'})"
        )
    chosen = [states[n] for n in names] if names else list(states.values())
    return {"all": {"hosts": {s.name: host_vars(paths, s) for s in chosen}}}
