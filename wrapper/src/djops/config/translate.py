"""Turning pydantic's errors into the user's words: what is wrong, and what to write instead.

A problem's message is worded with what the file holds (the YAML as written, the keys the model
allows, the word the user probably meant); the problems are then sorted into the file's order.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from djops.config.loader import _Document
from djops.config.models import _UNION_TAGS, Environment, Hooks, ProjectConfig
from djops.config.problems import Loc, Problem, _clip, _show, _suggest

_MISSING_HINTS = {
    "app": "add app: NAME (lowercase letters, digits and _); it names the unix user, "
    "the database and the app's own Redis",
    "settings": "add settings: PROJECT.settings (your DJANGO_SETTINGS_MODULE)",
    "environments": "add at least one environment under environments:, with its hosts and domains",
    "hosts": "add hosts: with at least one server, e.g. hosts: [deploy@web1.example.com]",
    "domains": "add domains: with at least one name, e.g. domains: [www.example.com]",
}
_EMPTY_HINTS = {
    "environments": "define at least one environment (e.g. production) with its hosts and domains",
    "hosts": "list at least one host, e.g. [deploy@web1.example.com]",
    "domains": "list at least one domain the app answers to, e.g. [www.example.com]",
    "roles": "give at least one role of web, app, db, cache (or leave roles out for all four)",
}
_ENVIRONMENT_FIELDS = frozenset(
    {"hosts", "domains", "tls", "acme_email", "acme_directory", "admin_users"}
)


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                # tls: is a name or a mapping; its keys are those of the mapping's model.
                models = [
                    m
                    for m in map(_unwrap, members)
                    if isinstance(m, type) and issubclass(m, BaseModel)
                ]
                return models[0] if len(models) == 1 else annotation
            annotation = members[0]
        else:
            return annotation


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model whose fields the mapping at `loc` holds (None when that is not a model)."""
    current: Any = ProjectConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
            continue
        origin, args = get_origin(current), get_args(current)
        if origin is dict and args:
            current = args[1]
        elif origin in (list, tuple) and args:
            current = args[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unknown_key(loc: Loc) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    allowed = list(model.model_fields) if model else []
    message = f"unknown key {key!r}"
    if len(loc) == 1 and key in _ENVIRONMENT_FIELDS:
        return f"{message}: {key} belongs to an environment (environments.NAME.{key})"
    if model is Environment and key in ProjectConfig.model_fields and key != "env":
        return f"{message}: {key} is set once at the top level, for every environment"
    suggestion = _suggest(key, allowed)
    if model is Hooks:
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        return f"unknown stage {key!r}{hint}; the stages are: {', '.join(allowed)}"
    if suggestion:
        return f"{message} (did you mean {suggestion!r}?)"
    if allowed:
        return f"{message}; the keys here are: {', '.join(allowed)}"
    return message


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _not_a_string(loc: Loc, value: Any, doc: _Document) -> str:
    node = doc.scalars.get(loc)
    key = loc[-1] if loc else ""
    if value is None:
        example = f'{key}: ""' if isinstance(key, str) else '""'
        return f"has no value; give a string (write {example} for an empty one)"
    if node is not None and node.style is None:
        written = f"{key}: " if isinstance(key, str) else ""
        kind = _yaml_kind(value)
        if isinstance(value, float) and repr(value) != node.value:
            kind = f"the number {value!r}"
        return (
            f"{_clip(node.value)} is read as {kind} in YAML, not a string; "
            f'quote it: {written}"{_clip(node.value)}"'
        )
    return f"must be a string, not {_yaml_kind(value)}"


def _not_an_int(value: Any) -> str:
    if isinstance(value, str) and value.strip().isdigit():
        return f"must be a number; write it without quotes: {value.strip()}"
    if value is None:
        return "has no value; give a whole number"
    shown = _show(value) if isinstance(value, str) else _yaml_kind(value)
    return f"must be a whole number, not {shown}"


def _translate(error: Mapping[str, Any], doc: _Document) -> Problem | None:
    raw_loc = tuple(error["loc"])
    # The tag after tls (which form of tls: was read) is pydantic's, not a key of the file.
    loc: Loc = tuple(
        p
        for i, p in enumerate(raw_loc)
        if p != "[key]" and not (p in _UNION_TAGS and i and raw_loc[i - 1] == "tls")
    )
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    key = str(loc[-1]) if loc else ""
    if kind == "djops":
        return Problem(loc, str(ctx["message"]))
    if kind == "missing":
        return Problem(loc, "missing; " + _MISSING_HINTS.get(key, f"add {key}:"))
    if kind == "extra_forbidden":
        return Problem(loc, _unknown_key(loc))
    if kind == "string_type":
        return Problem(loc, _not_a_string(loc, value, doc))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return Problem(loc, _not_an_int(value))
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        plain = all(re.fullmatch(r"[a-z][a-z0-9-]*", c) for c in choices)
        shown = ", ".join(c if plain else repr(c) for c in choices)
        message = f"{_show(value)} is not one of {shown}"
        suggestion = _suggest(value, choices) if isinstance(value, str) else None
        if suggestion:
            message += f" (did you mean {suggestion!r}?)"
        return Problem(loc, message)
    if kind == "too_short":
        minimum = int(ctx.get("min_length", 1))
        if isinstance(value, list | tuple | dict) and len(value) >= minimum:
            return None  # its entries failed; they are reported one by one
        return Problem(loc, "is empty; " + _EMPTY_HINTS.get(key, "give at least one entry"))
    if kind in ("list_type", "tuple_type"):
        if value is None:
            return Problem(loc, "has no value; give a list, e.g. [a, b]")
        if isinstance(value, str):
            return Problem(loc, f"must be a list; write [{_clip(value)}] for a single entry")
        return Problem(loc, f"must be a list, not {_yaml_kind(value)}")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        if value is None:
            return Problem(loc, "has no value; give its settings as indented key: value lines")
        return Problem(loc, f"must be a mapping of key: value lines, not {_yaml_kind(value)}")
    message = str(error.get("msg", kind))
    return Problem(loc, message[:1].lower() + message[1:])


def _position(loc: Loc, doc: _Document) -> tuple[int, int]:
    for end in range(len(loc), -1, -1):
        mark = doc.marks.get(loc[:end])
        if mark is not None:
            return mark
    return (-1, -1)


def _in_file_order(problems: Sequence[Problem], doc: _Document) -> list[str]:
    ordered = sorted(enumerate(problems), key=lambda item: (_position(item[1].loc, doc), item[0]))
    return list(dict.fromkeys(str(problem) for _, problem in ordered))
