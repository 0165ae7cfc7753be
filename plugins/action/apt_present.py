# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action djops.django.apt_present: ansible.builtin.apt with state=present, minus its fixed cost.

The apt module opens the whole package cache before it looks at anything: about a second per task
even when every package is installed, which is the usual case on a re-run. This action first asks
dpkg, in one shell command, whether the packages are installed; only when one is not (or dpkg cannot
tell) does it run ansible.builtin.apt with the same arguments, which then does all the work.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.djops.django.plugins.module_utils.dpkg import query_argv, statuses

# A plain package name, optionally with an architecture (libc6:amd64). Anything else (a version,
# a wildcard, a .deb path, a release) is apt's to resolve.
_PLAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$")
_APT_OPTIONS = frozenset(
    {
        "name",
        "update_cache",
        "cache_valid_time",
        "install_recommends",
        "default_release",
        "lock_timeout",
    }
)


def package_names(name: Any) -> list[str]:
    """The package names of ``name``: a list, or a string of comma-separated names."""
    if isinstance(name, str):
        items = name.split(",")
    elif isinstance(name, (list, tuple)):
        items = [str(item) for item in name]
    else:
        kind = type(name).__name__
        raise AnsibleActionFail(f"name must be a list of packages or a string, got {kind}")
    return [item.strip() for item in items if item.strip()]


def dpkg_query_command(names: list[str]) -> str:
    """A shell command printing ``<status> <package>`` for each installed or known package."""
    return shlex.join(query_argv(names))


def missing_packages(names: list[str], rc: int, stdout: str) -> list[str] | None:
    """The names dpkg does not report as installed, or None when dpkg's answer cannot be used.

    dpkg-query exits 1 when a name matches no package it knows (it is then missing) and prints
    ``binary:Package`` with an architecture only for packages installed for several.
    """
    if rc not in (0, 1) or any(not _PLAIN_NAME.match(name) for name in names):
        return None
    found = statuses(stdout)
    return [name for name in names if found.get(name) != "installed"]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = _APT_OPTIONS

    def run(
        self, tmp: str | None = None, task_vars: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        if "name" not in args:
            raise AnsibleActionFail("name is required: the packages to install")
        names = package_names(args["name"])
        if not names:
            result.update(changed=False, missing=[], msg="no packages to install")
            return result

        query = self._low_level_execute_command(dpkg_query_command(names), sudoable=True)
        missing = missing_packages(names, query["rc"], query.get("stdout", ""))
        if missing == []:
            result.update(changed=False, missing=[], msg="all packages are installed")
            return result

        args["name"] = names
        args["state"] = "present"
        result.update(
            self._execute_module(
                module_name="ansible.legacy.apt", module_args=args, task_vars=task_vars
            )
        )
        result["missing"] = names if missing is None else missing
        return result
