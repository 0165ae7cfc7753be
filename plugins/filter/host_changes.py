# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters comparing what the base role wants with the host's state (djops.django.host_state_info).

The role reads the host once, then runs a module only where the host differs: these filters say
where. Each is documented in the YAML file of its name next to this one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError


def file_differs(
    state: Mapping[str, Any] | None,
    content: str,
    mode: str,
    owner: str = "root",
    group: str = "root",
) -> bool:
    """Whether a file (its entry in host_state_info's files) differs from what it should be."""
    if state is None:
        return True
    if not isinstance(state, Mapping):
        raise AnsibleFilterError(f"file_differs: expected a file's state or None, got {state!r}")
    digest = hashlib.sha1(content.encode("utf-8", "surrogateescape")).hexdigest()  # noqa: S324
    return (state.get("sha1"), state.get("mode"), state.get("owner"), state.get("group")) != (
        digest,
        mode,
        owner,
        group,
    )


def edit_lines(text: str, lines: Sequence[Sequence[str]]) -> str:
    """``text`` with each line matching a pattern replaced by its line; lines matching no pattern
    are appended. ``lines``: pairs of a regular expression for a whole line and its line."""
    for pair in lines:
        if len(pair) != 2:
            raise AnsibleFilterError(f"edit_lines: expected [pattern, line] pairs, got {pair!r}")
        pattern, line = pair
        try:
            compiled = re.compile(pattern, re.MULTILINE)
        except re.error as error:
            message = f"edit_lines: {pattern!r} is not a regular expression: {error}"
            raise AnsibleFilterError(message) from error
        if compiled.search(text):
            text = compiled.sub(lambda _match, line=line: line, text)
        else:
            text += ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    return text


def users_to_update(
    users: Sequence[Mapping[str, Any]],
    state: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, Sequence[str]],
) -> list[Mapping[str, Any]]:
    """The users whose account is missing or differs: shell, primary group, comment, or a group
    of ``groups[name]`` it is not in (other groups it has are left alone)."""
    out = []
    for user in users:
        now = state.get(user["name"])
        if (
            now is None
            or now["shell"] != user["shell"]
            or now["group"] != user["name"]
            or (user.get("comment") and now["gecos"] != user["comment"])
            or any(group not in now["groups"] for group in groups.get(user["name"], []))
        ):
            out.append(user)
    return out


def users_keys_to_update(
    users: Sequence[Mapping[str, Any]], state: Mapping[str, Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The users with keys whose authorized_keys lacks one of them or, when their keys are
    exclusive, holds another."""
    out = []
    for user in users:
        if not user.get("authorized_keys"):
            continue
        now = (state.get(user["name"]) or {}).get("authorized_keys", [])
        wanted = [key.strip() for key in user["authorized_keys"]]
        missing = any(key not in now for key in wanted)
        extra = user.get("authorized_keys_exclusive") and any(key not in wanted for key in now)
        if missing or extra:
            out.append(user)
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "file_differs": file_differs,
            "edit_lines": edit_lines,
            "users_to_update": users_to_update,
            "users_keys_to_update": users_keys_to_update,
        }
