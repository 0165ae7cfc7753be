# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter djops.django.process_units: an app's processes as the systemd units that run them.

Each process (a long-running command next to the app server: a Celery worker, a scheduler, a
management command that loops) runs as ``instances`` units, one template per instance, named
``djops-<app>-<process>-<n>@.service``: the instance of the template is the release, so every
release runs its own. The documentation is in process_units.yml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# As the CLI checks them: no '-', so a unit name says which part is the process and which the
# instance number; at most 24 characters, so every unit name stays short.
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,23}")


def _exec_arg(arg: str) -> str:
    """One argument of ExecStart=, quoted so that systemd passes it on as written.

    systemd reads C escapes inside double quotes and expands %-specifiers and $VARIABLES
    everywhere: each is escaped, so a command runs exactly as the config gives it.
    """
    if "\n" in arg or "\r" in arg or "\0" in arg:
        raise AnsibleFilterError(f"process_units: the argument {arg!r} holds a line break or NUL")
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def _number(process: Mapping[str, Any], key: str, default: int, least: int) -> int:
    value = process.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise AnsibleFilterError(
            f"process_units: {key} of process {process.get('name')!r} must be a whole number "
            f"of at least {least}, not {value!r}"
        )
    return value


def process_units(processes: Any, app: str, singletons: bool = True) -> list[dict[str, Any]]:
    """One entry per unit template to install: the processes this host runs, each instance."""
    if not isinstance(processes, Sequence) or isinstance(processes, (str, bytes)):
        raise AnsibleFilterError("process_units: expected a list of processes")
    units: list[dict[str, Any]] = []
    seen: set[str] = set()
    for process in processes:
        if not isinstance(process, Mapping):
            raise AnsibleFilterError(f"process_units: {process!r} is not a process (a mapping)")
        name = process.get("name")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise AnsibleFilterError(
                f"process_units: {name!r} is not a valid process name (lowercase letters, "
                "digits and _, starting with a letter, at most 24 characters)"
            )
        if name in seen:
            raise AnsibleFilterError(f"process_units: two processes are named {name!r}")
        seen.add(name)
        command = process.get("command")
        if (
            not isinstance(command, Sequence)
            or isinstance(command, (str, bytes))
            or not command
            or not all(isinstance(arg, str) for arg in command)
            or not command[0]
        ):
            raise AnsibleFilterError(
                f"process_units: the command of process {name!r} must be a list of its "
                "arguments, the program first"
            )
        instances = _number(process, "instances", 1, 1)
        stop_timeout = _number(process, "stop_timeout", 30, 1)
        if process.get("singleton", False) and not singletons:
            continue
        exec_start = " ".join(_exec_arg(arg) for arg in command)
        units.extend(
            {
                "unit": f"djops-{app}-{name}-{number}",
                "process": name,
                "instance": number,
                "exec_start": exec_start,
                "stop_timeout": stop_timeout,
            }
            for number in range(1, instances + 1)
        )
    return units


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"process_units": process_units}
