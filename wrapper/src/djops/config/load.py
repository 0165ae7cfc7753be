"""Reading and validating deploy/djops.yml: the YAML, then both passes of checks, as one list.

`parse_config` validates text; `load_config` reads a file first. Either returns a
`ProjectConfig`, or raises one `ConfigError` listing every problem in the order of the file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from djops.config.constants import CONFIG_RELPATH
from djops.config.loader import _parse_yaml
from djops.config.models import ProjectConfig
from djops.config.rules import _cross_field_problems
from djops.config.translate import _in_file_order, _translate, _yaml_kind
from djops.errors import ConfigError


def parse_config(text: str, source: str = str(CONFIG_RELPATH)) -> ProjectConfig:
    """Validate the text of a djops.yml; ConfigError(source, problems) lists all that is wrong."""
    doc = _parse_yaml(text, source)
    if doc.data is None:
        raise ConfigError(
            source,
            ["the file is empty; it needs at least app, settings, wsgi (or asgi) and environments"],
        )
    if not isinstance(doc.data, dict):
        raise ConfigError(
            source,
            [
                f"the file holds {_yaml_kind(doc.data)}; it must be a mapping of settings "
                "(app: …, settings: …, environments: …)"
            ],
        )
    problems = list(doc.problems)
    config = None
    try:
        config = ProjectConfig.model_validate(doc.data, context={"djops_defer_cross_checks": True})
    except ValidationError as exc:
        for error in exc.errors():
            problem = _translate(error, doc)
            if problem is not None:
                problems.append(problem)
    problems.extend(_cross_field_problems(doc.data))
    if problems or config is None:
        raise ConfigError(source, _in_file_order(problems, doc))
    return config


def load_config(path: Path) -> ProjectConfig:
    """Read and validate the config file at `path` (messages show the path as given)."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(source, ["is a directory, not a config file"]) from None
    except OSError as exc:
        raise ConfigError(source, [f"cannot be read: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(source, [f"line {line}: not UTF-8 text; save it as UTF-8"]) from None
    return parse_config(text, source)
