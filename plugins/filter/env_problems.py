# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that check the environment variables a user gives the app (roles app and appserver).

``env_problems`` lists what is wrong with a mapping of NAME: value (app_env, appserver_env);
``env_names_problems`` what is wrong with the names djops is told to give its own variables
(app_env_names). Both refuse the names that would break or take over the app's processes (PATH,
LD_*, PYTHONPATH, …) and those djops sets itself; ``env_problems`` also refuses values that an
environment file or the kernel cannot carry.

The CLI refuses the same names (wrapper/src/djops/config/reserved.py: _RESERVED_ENV_NAMES and
friends); a unit test checks the two lists agree.

The documentation of each filter is in the YAML file named after it, next to this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# Each "NAME=value" string the kernel passes to a program: at most MAX_ARG_STRLEN (32 pages)
# bytes with its terminating NUL; beyond it execve() fails with E2BIG.
MAX_VARIABLE_BYTES = 131072 - 1
# All the extra variables together: well under the kernel's ARG_MAX (2 MiB with the usual 8 MiB
# stack), which the arguments and djops' own variables share.
MAX_TOTAL_BYTES = 1024 * 1024

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_SHELL = "it changes how the shell runs djops' commands and hooks"
_ACCOUNT = "systemd sets it from the app's unix account"
_SYSTEMD = "systemd sets it for the app server (socket activation, readiness, logging)"
RESERVED_NAMES: dict[str, str] = {
    "PATH": "djops sets it, the release's venv first",
    "HOME": _ACCOUNT,
    "USER": _ACCOUNT,
    "LOGNAME": _ACCOUNT,
    "SHELL": _ACCOUNT,
    "IFS": _SHELL,
    "ENV": _SHELL,
    "BASH_ENV": _SHELL,
    "CDPATH": _SHELL,
    "SHELLOPTS": _SHELL,
    "BASHOPTS": _SHELL,
    "PS4": _SHELL,
    "NOTIFY_SOCKET": _SYSTEMD,
    "LISTEN_FDS": _SYSTEMD,
    "LISTEN_PID": _SYSTEMD,
    "LISTEN_FDNAMES": _SYSTEMD,
    "INVOCATION_ID": _SYSTEMD,
    "JOURNAL_STREAM": _SYSTEMD,
    "RUNTIME_DIRECTORY": _SYSTEMD,
    "CREDENTIALS_DIRECTORY": _SYSTEMD,
    "MAINPID": _SYSTEMD,
    "SYSTEMD_EXEC_PID": _SYSTEMD,
    "GUNICORN_CMD_ARGS": "gunicorn reads options from it that would override djops' own",
    "DJANGO_SETTINGS_MODULE": "djops sets it from the settings module (app_settings)",
    "STATIC_ROOT": "djops sets it to the release's static directory",
}
RESERVED_PREFIXES: dict[str, str] = {
    "LD_": "the dynamic loader reads it: it would load other code into every process",
    "BASH_FUNC_": "bash imports it as a function, into every shell djops runs",
    "UWSGI_": "uWSGI reads options from it that would override djops' own",
    "PYTHON": "it changes where Python finds or how it runs the app's code",
}
# PYTHON* variables that only tune output, warnings and diagnostics: allowed.
PYTHON_ALLOWED = frozenset(
    {
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "PYTHONUTF8",
        "PYTHONWARNINGS",
        "PYTHONFAULTHANDLER",
        "PYTHONTRACEMALLOC",
        "PYTHONDEVMODE",
        "PYTHONHASHSEED",
        "PYTHONOPTIMIZE",
    }
)


def reserved_reason(name: str) -> str | None:
    """Why ``name`` may not be given to the app, or None when it may."""
    if name in RESERVED_NAMES:
        return RESERVED_NAMES[name]
    if name in PYTHON_ALLOWED:
        return None
    return next((why for prefix, why in RESERVED_PREFIXES.items() if name.startswith(prefix)), None)


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        return (
            f"{str(name)[:60]!r} is not a valid variable name "
            "(letters, digits and _, not starting with a digit)"
        )
    why = reserved_reason(name)
    if why:
        return f"{name} is reserved: {why}"
    return None


def env_problems(env: Any, field: str, taken: Mapping[str, str] | None = None) -> list[str]:
    """Each problem of ``env`` (NAME: value), as one line naming ``field`` and the fix.

    ``taken`` maps the names djops sets itself in this role to what it sets them to.
    """
    if env is None:
        return []
    if not isinstance(env, Mapping):
        return [f"{field} must be a mapping of NAME: value, not a {type(env).__name__}"]
    taken = dict(taken or {})
    problems = []
    total = 0
    for name, value in env.items():
        where = f"{field}.{str(name)[:60]}"
        problem = _name_problem(name)
        if problem:
            problems.append(f"{where}: {problem}; remove it from {field}")
            continue
        if name in taken:
            problems.append(
                f"{where}: djops sets {name} itself, {taken[name]}; remove it from {field}"
            )
            continue
        if isinstance(value, Mapping | list | tuple | set) or value is None:
            problems.append(f"{where}: give a string, not a {type(value).__name__}")
            continue
        text = str(value)
        # The value is never echoed: it may be a secret.
        if "\0" in text:
            problems.append(f"{where}: the value holds a NUL byte, which no environment can carry")
        elif "\n" in text or "\r" in text:
            problems.append(
                f"{where}: the value holds a line break; environment files and unit files "
                "carry one line per variable: put it on one line (or encode it, e.g. base64)"
            )
        size = len(f"{name}={text}".encode())
        total += size + 1
        if size > MAX_VARIABLE_BYTES:
            problems.append(
                f"{where}: NAME=value is {size} bytes; the kernel passes at most "
                f"{MAX_VARIABLE_BYTES} bytes a variable: keep large data in a file"
            )
    if total > MAX_TOTAL_BYTES:
        problems.append(
            f"{field}: the variables take {total} bytes together, more than {MAX_TOTAL_BYTES}; "
            "keep large data in files"
        )
    return problems


def env_names_problems(names: Any, field: str) -> list[str]:
    """Each problem of ``names`` (what djops names its own variables: key: NAME)."""
    if not isinstance(names, Mapping):
        raise AnsibleFilterError(f"env_names_problems: {field} must be a mapping of key: NAME")
    problems = []
    for key, name in names.items():
        problem = _name_problem(name)
        if problem:
            problems.append(f"{field}.{key}: {problem}; choose another name for it")
    return problems


class FilterModule:
    """Checks of the environment variables given to the app."""

    def filters(self) -> dict[str, Any]:
        return {"env_problems": env_problems, "env_names_problems": env_names_problems}
