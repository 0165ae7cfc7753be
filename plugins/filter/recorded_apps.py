# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters for the record of the apps a role set up on a host (roles postgres and redis).

``redis_ports`` gives each app of role redis the port of its own Redis instance, kept in the record
from run to run.

Each role writes the apps it set up to a JSON file on the host (``apps_record``) and reads it back
on the next run (``recorded_apps``), so that with ``<role>_apps_exclusive: false`` the apps that
other projects set up earlier are kept.

The documentation of each filter is in the YAML file named after it, next to this one: ansible-doc
reads DOCUMENTATION from a Python file only for the filter that has the file's name.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# The start of slurp's message for a file that does not exist ("file not found" before
# ansible-core 2.19, "File not found" since).
_NOT_FOUND = "file not found:"
_REPAIR_HINT = (
    "it names the apps set up earlier on this host, so that later runs keep them; repair it, "
    "or remove it and list every app of this host in the next run"
)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _app_problem(apps: Any) -> str | None:
    """What is wrong with ``apps`` as a list of apps (mappings with a name), if anything."""
    if not _is_list(apps):
        return f"expected a list of apps, got {type(apps).__name__}"
    for index, app in enumerate(apps):
        if not isinstance(app, Mapping):
            return f"app {index} is a {type(app).__name__}, not a mapping"
        name = app.get("name")
        if not isinstance(name, str) or not name:
            # Only the keys: an app may carry a password.
            return f"app {index} has no name (it has {', '.join(map(str, app)) or 'no keys'})"
    return None


def _check_apps(apps: Any, filter_name: str) -> list[Mapping[str, Any]]:
    problem = _app_problem(apps)
    if problem:
        raise AnsibleFilterError(f"{filter_name}: {problem}")
    return list(apps)


def _read_record(slurped: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The apps in a registered slurp result; none if the file was not read or does not exist."""
    if "content" not in slurped:
        message = str(slurped.get("msg", ""))
        if slurped.get("skipped") or not message or message.lower().startswith(_NOT_FOUND):
            return []
        # Unreadable, a directory, ...: taking it for empty would drop the apps it names.
        raise AnsibleFilterError(f"cannot read the record of the apps set up earlier: {message}")

    source = slurped.get("source") or "the record of the apps set up earlier"
    try:
        text = base64.b64decode(str(slurped["content"]), validate=True).decode("utf-8")
        recorded = json.loads(text)
    # Bad base64, bad UTF-8 and bad JSON are all ValueErrors.
    except ValueError as error:
        raise AnsibleFilterError(
            f"{source} is corrupt (not JSON: {error}); {_REPAIR_HINT}"
        ) from None
    problem = _app_problem(recorded)
    if not problem:
        names = [app["name"] for app in recorded]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problem = f"recorded more than once: {', '.join(duplicates)}"
    if problem:
        raise AnsibleFilterError(f"{source} is corrupt ({problem}); {_REPAIR_HINT}")
    return list(recorded)


def recorded_apps(apps: Any, slurped: Any, exclusive: Any) -> list[Mapping[str, Any]]:
    """The apps a role sets up: ``apps``, and unless exclusive also the recorded ones not in it.

    ``slurped`` is the registered result of ``ansible.builtin.slurp`` of the record (run with
    ``failed_when: false``, skipped when exclusive). Recorded apps that ``apps`` names again are
    replaced by the listed ones; the result is sorted by name, so that projects taking turns on a
    host write the same files.
    """
    apps = _check_apps(apps, "recorded_apps")
    if not isinstance(exclusive, bool):
        raise AnsibleFilterError(
            f"recorded_apps: exclusive must be true or false, not {exclusive!r} "
            f"({type(exclusive).__name__})"
        )
    if exclusive:
        return apps
    if not isinstance(slurped, Mapping):
        raise AnsibleFilterError(
            "recorded_apps: expected the registered result of ansible.builtin.slurp, "
            f"got {type(slurped).__name__}"
        )
    listed = {app["name"] for app in apps}
    kept = [app for app in _read_record(slurped) if app["name"] not in listed]
    return sorted(kept + apps, key=lambda app: app["name"])


def apps_record(apps: Any, keys: Any) -> list[dict[str, Any]]:
    """What to record of ``apps``: each app with only ``keys`` (never a password)."""
    apps = _check_apps(apps, "apps_record")
    if not _is_list(keys) or not all(isinstance(key, str) for key in keys):
        raise AnsibleFilterError(f"apps_record: keys must be a list of key names, got {keys!r}")
    if "name" not in keys:
        raise AnsibleFilterError("apps_record: keys must include 'name', which identifies an app")
    return [{key: value for key, value in app.items() if key in keys} for app in apps]


_HIGHEST_PORT = 65535


def redis_ports(apps: Any, slurped: Any, listed: Any, start: Any) -> list[dict[str, Any]]:
    """``apps`` with a ``port`` each (except the recorded-only apps that had none)."""
    apps = _check_apps(apps, "redis_ports")
    if not isinstance(slurped, Mapping):
        raise AnsibleFilterError(
            "redis_ports: expected the registered result of ansible.builtin.slurp, "
            f"got {type(slurped).__name__}"
        )
    if isinstance(start, bool) or not isinstance(start, int) or not 1024 <= start <= _HIGHEST_PORT:
        raise AnsibleFilterError(
            f"redis_ports: start must be a port from 1024 to 65535, not {start!r}"
        )
    listed = set(listed)
    recorded = {app["name"]: app.get("port") for app in _read_record(slurped)}
    taken = {port for port in recorded.values() if isinstance(port, int)}
    result = []
    for app in apps:
        port = recorded.get(app["name"])
        if not isinstance(port, int) and app["name"] in listed:
            port = start
            while port in taken:
                port += 1
            if port > _HIGHEST_PORT:
                raise AnsibleFilterError(f"redis_ports: no free port from {start} up")
            taken.add(port)
        entry = dict(app)
        entry.pop("port", None)
        if isinstance(port, int):
            entry["port"] = port
        result.append(entry)
    return result


class FilterModule:
    """The record of the apps a role set up on a host."""

    def filters(self) -> dict[str, Any]:
        return {
            "recorded_apps": recorded_apps,
            "apps_record": apps_record,
            "redis_ports": redis_ports,
        }
