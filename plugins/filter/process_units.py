# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters djops.django.process_units and schedule_units: an app's commands as systemd units.

Each process (a long-running command next to the app server: a Celery worker, a scheduler, a
management command that loops) runs as ``instances`` units, one template per instance, named
``djops-<app>-<process>-<n>@.service``: the instance of the template is the release, so every
release runs its own. Each scheduled job is a timer and a service, ``djops-<app>-job-<name>``,
run against the release served when it fires. The documentation is in process_units.yml and
schedule_units.yml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# As the CLI checks them: no '-', so a unit name says which part is the process and which the
# instance number; at most 24 characters, so every unit name stays short.
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,23}")
# The filter that reports a problem, by what it was given.
_FILTER = {"process": "process_units", "job": "schedule_units"}


def _exec_arg(arg: str) -> str:
    """One argument of ExecStart=, quoted so that systemd passes it on as written.

    systemd reads C escapes inside double quotes and expands %-specifiers and $VARIABLES
    everywhere: each is escaped, so a command runs exactly as the config gives it.
    """
    if "\n" in arg or "\r" in arg or "\0" in arg:
        raise AnsibleFilterError(f"the argument {arg!r} holds a line break or NUL")
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def _number(entry: Mapping[str, Any], key: str, default: int, what: str) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AnsibleFilterError(
            f"{_FILTER[what]}: {key} of {what} {entry.get('name')!r} must be a whole number "
            f"of at least 1, not {value!r}"
        )
    return value


def _named(entries: Any, what: str) -> list[tuple[str, Mapping[str, Any], str]]:
    """(name, entry, ExecStart= arguments) of each entry, its name and command checked."""
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        raise AnsibleFilterError(f"{_FILTER[what]}: expected a list")
    named = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise AnsibleFilterError(f"{_FILTER[what]}: {entry!r} is not a {what} (a mapping)")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise AnsibleFilterError(
                f"{_FILTER[what]}: {name!r} is not a valid {what} name (lowercase letters, "
                "digits and _, starting with a letter, at most 24 characters)"
            )
        if name in seen:
            raise AnsibleFilterError(f"{_FILTER[what]}: two entries are named {name!r}")
        seen.add(name)
        command = entry.get("command")
        if (
            not isinstance(command, Sequence)
            or isinstance(command, (str, bytes))
            or not command
            or not all(isinstance(arg, str) for arg in command)
            or not command[0]
        ):
            raise AnsibleFilterError(
                f"{_FILTER[what]}: the command of {what} {name!r} must be a list of its "
                "arguments, the program first"
            )
        named.append((name, entry, " ".join(_exec_arg(arg) for arg in command)))
    return named


def process_units(processes: Any, app: str, singletons: bool = True) -> list[dict[str, Any]]:
    """One entry per unit template to install: the processes this host runs, each instance."""
    units: list[dict[str, Any]] = []
    for name, process, exec_start in _named(processes, "process"):
        instances = _number(process, "instances", 1, "process")
        stop_timeout = _number(process, "stop_timeout", 30, "process")
        if process.get("singleton", False) and not singletons:
            continue
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


def schedule_units(schedule: Any, app: str) -> list[dict[str, Any]]:
    """One entry per scheduled job: its timer's and service's name, command and calendar."""
    units = []
    for name, job, exec_start in _named(schedule, "job"):
        calendar = job.get("calendar")
        if not isinstance(calendar, str) or not calendar.strip() or "\n" in calendar:
            raise AnsibleFilterError(
                f"schedule_units: the calendar of job {name!r} must be a systemd calendar "
                "expression on one line, such as daily"
            )
        units.append(
            {
                "unit": f"djops-{app}-job-{name}",
                "job": name,
                "exec_start": exec_start,
                "calendar": calendar,
                "timeout": _number(job, "timeout", 3600, "job"),
            }
        )
    return units


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"process_units": process_units, "schedule_units": schedule_units}
