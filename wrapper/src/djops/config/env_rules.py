"""The rules for environment variables that look at more than one value: the names djops gives
its own variables (env_names) against each other and against env, and the size of each
environment's variables together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from djops.config.fields import _ENV_VAR_RE
from djops.config.problems import Loc, Problem
from djops.config.reserved import (
    _DEFAULT_ENV_NAMES,
    _MANAGED_ENV_SOURCES,
    _MAX_ENV_TOTAL_BYTES,
    _MAX_ENV_VAR_BYTES,
    _SECRET_ENV_FIELDS,
    _VAULT_HINT,
    _reserved_env_reason,
)


def _effective_env_names(raw: Any) -> dict[str, str]:
    names = dict(_DEFAULT_ENV_NAMES)
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            if key in names and isinstance(value, str) and _ENV_VAR_RE.fullmatch(value):
                names[key] = value
    return names


def _env_names_problems(raw: Any) -> list[Problem]:
    names = _effective_env_names(raw)
    explicit = set(raw) if isinstance(raw, Mapping) else set()
    by_value: dict[str, list[str]] = {}
    for key, value in names.items():
        by_value.setdefault(value, []).append(key)
    problems = []
    for key in sorted(explicit & set(names), key=list(names).index):
        why = _reserved_env_reason(names[key])
        if why:
            problems.append(
                Problem(
                    ("env_names", key),
                    f"{names[key]!r} is reserved: {why}; choose another name "
                    f"(the default is {_DEFAULT_ENV_NAMES[key]})",
                )
            )
    for value, keys in by_value.items():
        if len(keys) < 2:
            continue
        mine = [k for k in keys if k in explicit]
        blame = mine[1:] if len(mine) == len(keys) else mine
        for key in blame:
            others = ", ".join(f"env_names.{k}" for k in keys if k != key)
            problems.append(
                Problem(
                    ("env_names", key),
                    f"{value!r} is also the name of {others}; each variable djops sets "
                    "needs a name of its own",
                )
            )
    return problems


def _env_problems(env: Any, loc: Loc, names: Mapping[str, str]) -> list[Problem]:
    if not isinstance(env, Mapping):
        return []
    secrets = {names[field] for field in _SECRET_ENV_FIELDS}
    managed = {names[field]: why for field, why in _MANAGED_ENV_SOURCES.items()}
    problems = []
    for key in env:
        if key in secrets:
            problems.append(Problem((*loc, key), _VAULT_HINT))
        elif key in managed:
            problems.append(
                Problem(
                    (*loc, key),
                    f"djops sets {key} itself, {managed[key]}; remove it from env "
                    "(or rename what djops sets, under env_names)",
                )
            )
        elif isinstance(key, str) and _reserved_env_reason(key):
            problems.append(
                Problem(
                    (*loc, key),
                    f"{key} is reserved: {_reserved_env_reason(key)}; remove it from env",
                )
            )
        elif isinstance(key, str) and isinstance(env[key], str):
            size = len(f"{key}={env[key]}".encode())
            if size > _MAX_ENV_VAR_BYTES:
                problems.append(
                    Problem(
                        (*loc, key),
                        f"NAME=value is {size} bytes; the kernel passes at most "
                        f"{_MAX_ENV_VAR_BYTES} bytes a variable: keep large data in a file",
                    )
                )
    return problems


def _env_total_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Each environment whose env (the top level's and its own) is too large together."""
    top = data.get("env")
    environments = data.get("environments")
    if not isinstance(environments, Mapping):
        return []
    problems = []
    for name, environment in environments.items():
        own = environment.get("env") if isinstance(environment, Mapping) else None
        merged = {
            **(top if isinstance(top, Mapping) else {}),
            **(own if isinstance(own, Mapping) else {}),
        }
        total = sum(len(f"{k}={v}".encode()) + 1 for k, v in merged.items())
        if total > _MAX_ENV_TOTAL_BYTES:
            loc = ("environments", name, "env") if own else ("env",)
            problems.append(
                Problem(
                    loc,
                    f"the variables of environment {name} take {total} bytes together, more "
                    f"than {_MAX_ENV_TOTAL_BYTES}; keep large data in files",
                )
            )
    return problems
