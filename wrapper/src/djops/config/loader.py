"""Reading the YAML of deploy/djops.yml, keeping where each value came from.

The document is built node by node rather than by PyYAML's constructor, so that keys stay the
strings the user wrote, duplicate keys are reported, each path remembers its line and column
(messages are sorted by them), and an alias bomb stops early.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from djops.config.problems import Loc, Problem
from djops.errors import ConfigError

_MAX_DEPTH = 32
# Values built, aliases expanded: a real config has a few hundred. Aliases of aliases grow
# exponentially (a 600-byte file can stand for millions of values), so building stops here.
_MAX_NODES = 20_000


@dataclass
class _Document:
    """Parsed YAML plus, for every path into it, the position (line, column) it was written at."""

    data: Any = None
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[Loc, yaml.ScalarNode] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    nodes: int = 0


class _TooDeep(Exception):
    pass


class _TooMany(Exception):
    pass


def _build(node: yaml.Node, loc: Loc, doc: _Document, loader: yaml.SafeLoader, depth: int) -> Any:
    # Built by hand rather than with loader.construct_document so that keys stay the strings the
    # user wrote (YAML 1.1 would turn `on:` into True), duplicate keys are reported instead of
    # silently dropped, and each path remembers its line.
    if depth > _MAX_DEPTH:
        raise _TooDeep
    doc.nodes += 1
    if doc.nodes > _MAX_NODES:
        raise _TooMany
    if isinstance(node, yaml.MappingNode):
        merged: dict[str, Any] = {}
        own: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                is_list = isinstance(value_node, yaml.SequenceNode)
                for source in value_node.value if is_list else [value_node]:
                    if not isinstance(source, yaml.MappingNode):
                        line = source.start_mark.line + 1
                        doc.problems.append(
                            Problem(
                                loc,
                                f"line {line}: '<<' merges mappings only (<<: *name or "
                                "<<: [*a, *b], each naming a mapping); this is "
                                + (
                                    "a list" if isinstance(source, yaml.SequenceNode) else "a value"
                                ),
                            )
                        )
                        continue
                    built = _build(source, loc, doc, loader, depth + 1)
                    for key, value in built.items():
                        merged.setdefault(key, value)
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append(
                    Problem(loc, f"line {line}: keys must be plain names, not lists or mappings")
                )
                continue
            key = str(key_node.value)
            if key in first_line:
                doc.problems.append(
                    Problem(
                        (*loc, key),
                        f"appears twice (lines {first_line[key]} and {line}); keep one",
                    )
                )
            first_line.setdefault(key, line)
            doc.marks[(*loc, key)] = (key_node.start_mark.line, key_node.start_mark.column)
            own[key] = _build(value_node, (*loc, key), doc, loader, depth + 1)
        return {**merged, **own}
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            doc.marks.setdefault((*loc, index), (item.start_mark.line, item.start_mark.column))
            items.append(_build(item, (*loc, index), doc, loader, depth + 1))
        return items
    doc.scalars[loc] = node
    return loader.construct_object(node, deep=True)


def _yaml_error(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        message = f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {exc.problem}"
        if "another document" in str(exc.problem):
            return f"line {mark.line + 1}: the file holds more than one YAML document; keep one"
        context, context_mark = exc.context or "", exc.context_mark
        if context.startswith("while ") and context_mark and context_mark.line != mark.line:
            message += f" ({context} that starts at line {context_mark.line + 1})"
        if "\\t" in str(exc.problem) or "\t" in str(exc.problem):
            message += "; indent with spaces, not tabs"
        return message
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"not valid YAML: {first}"


def _parse_yaml(text: str, source: str) -> _Document:
    doc = _Document()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        doc.marks[()] = (-1, -1)
        if node is not None:
            doc.data = _build(node, (), doc, loader, 0)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_yaml_error(exc)]) from None
    except (_TooDeep, RecursionError):
        raise ConfigError(source, ["nested too deeply (an alias that refers to itself?)"]) from None
    except _TooMany:
        raise ConfigError(
            source,
            [
                f"too many YAML nodes (aliases expanding to {_MAX_NODES}+); a config needs a few "
                "hundred: use anchors and aliases for shared values, not aliases of aliases"
            ],
        ) from None
    finally:
        loader.dispose()
    return doc
