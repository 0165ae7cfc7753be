# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter djops.django.provision_changes: what a deploy asks for that the host was not set up for.

Provisioning records on the app host what it set up the host for (the app server, the Python, the
system packages, the domains, and what the caller adds, such as the services and the TLS mode).
A deploy or a rollback compares that record with what its own variables ask and stops, before
touching anything, with one line per difference. The documentation is in provision_changes.yml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError


def _shown(value: Any) -> str:
    """A recorded or wanted value as a user reads it in one line."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if value is None or value == "":
        return "(none)"
    return str(value)


def _normal(value: Any) -> Any:
    """Lists compare as sets of their items: the order they were written in does not matter."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return sorted(str(item) for item in value)
    return value


def provision_changes(wanted: Any, recorded: Any) -> list[str]:
    """One line per setting whose wanted value differs from the recorded one.

    Only the settings present in both count: a record written by an earlier version, or none at
    all (a host provisioned before records existed), asks nothing of the deploy.
    """
    if not isinstance(wanted, Mapping):
        raise AnsibleFilterError(
            f"provision_changes: expected a mapping of settings, got {type(wanted).__name__}"
        )
    if recorded is None or recorded == "":
        return []
    if not isinstance(recorded, Mapping):
        raise AnsibleFilterError(
            "provision_changes: the host's record of what it was provisioned for is a "
            f"{type(recorded).__name__}, not a mapping: provision the host again to rewrite it"
        )
    return [
        f"{name} changed from {_shown(recorded[name])} to {_shown(value)}"
        for name, value in sorted(wanted.items())
        if name in recorded and _normal(recorded[name]) != _normal(value)
    ]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"provision_changes": provision_changes}
