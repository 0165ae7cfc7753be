"""The developer's config file, deploy/djops.yml: its model, loading and validation.

`load_config` reads the file and returns a `ProjectConfig`, or raises `ConfigError` listing every
problem it found, each naming the field (``environments.production.domains[0]``) and the fix, in
the order they appear in the file.

Validation happens in two passes over the same parsed YAML: pydantic checks each field on its own,
and `_cross_field_problems` checks the rules that tie fields together (wsgi or asgi, acme_email when
tls is acme, secrets kept out of env, …). The second pass works on the raw data so that it can
report its problems even when some field is broken; pydantic's after-validators would not run then.
"""

from __future__ import annotations

import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from djops.config.constants import (
    ALL_ROLES,
    ALL_SERVICES,
    CONFIG_RELPATH,
    LETSENCRYPT_PRODUCTION,
    LETSENCRYPT_STAGING,
    Role,
    Service,
)
from djops.config.fields import _APP_RE
from djops.config.models import (
    _UNION_TAGS,
    AdminUser,
    Environment,
    EnvNames,
    Hook,
    HookList,
    Hooks,
    Host,
    ProjectConfig,
    ProvidedTls,
    TlsSetting,
    config_as_data,
)
from djops.config.network import parse_host_string
from djops.config.problems import Loc, Problem, _clip, _show, _suggest, format_loc
from djops.config.reserved import (
    _MAX_ENV_TOTAL_BYTES,
    _MAX_ENV_VAR_BYTES,
    _PYTHON_ENV_ALLOWED,
    _RESERVED_APP_NAMES,
    _RESERVED_ENV_NAMES,
    _RESERVED_ENV_PREFIXES,
)
from djops.config.rules import _cross_field_problems
from djops.errors import ConfigError, UsageError

# What other modules and the tests import from djops.config. The underscored names are the
# lists of reserved names that tests compare with the roles' own lists.
__all__ = [
    "ALL_ROLES",
    "ALL_SERVICES",
    "CONFIG_RELPATH",
    "LETSENCRYPT_PRODUCTION",
    "LETSENCRYPT_STAGING",
    "_APP_RE",
    "_MAX_ENV_TOTAL_BYTES",
    "_MAX_ENV_VAR_BYTES",
    "_PYTHON_ENV_ALLOWED",
    "_RESERVED_APP_NAMES",
    "_RESERVED_ENV_NAMES",
    "_RESERVED_ENV_PREFIXES",
    "AdminUser",
    "EnvNames",
    "Environment",
    "Hook",
    "HookList",
    "Hooks",
    "Host",
    "Loc",
    "Problem",
    "ProjectConfig",
    "ProvidedTls",
    "Role",
    "Service",
    "TlsSetting",
    "access_problems",
    "check_config",
    "config_as_data",
    "controller_file",
    "find_config",
    "format_loc",
    "load_config",
    "parse_config",
    "parse_host_string",
    "project_problems",
    "project_root",
    "provision_problems",
    "resolve_config_path",
    "resolve_python",
]


_PYTHON_VERSION_FILE_RE = re.compile(r"(?:cpython-|python)?(3\.\d{1,2}(?:\.\d{1,3})?)(?:[-+].*)?")


# --- reading the YAML, keeping where each value came from --------------------------------------

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


# --- turning pydantic's errors into the user's words -------------------------------------------

_MISSING_HINTS = {
    "app": "add app: NAME (lowercase letters, digits and _); it names the unix user, "
    "the database and the Redis key prefix",
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


# --- public entry points -----------------------------------------------------------------------


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


def find_config(start: Path) -> Path:
    """Look for deploy/djops.yml in `start` and each directory above it, like git does.

    The path returned is relative when `start` is (``deploy/djops.yml``, ``../deploy/djops.yml``),
    so messages show it the way the user would type it.
    """
    here = start.absolute()
    for levels, directory in enumerate([here, *here.parents]):
        candidate = directory / CONFIG_RELPATH
        if candidate.is_file():
            if start.is_absolute():
                return candidate
            return Path(start, *[".."] * levels, CONFIG_RELPATH)
    raise UsageError(
        f"no {CONFIG_RELPATH} in {here} or any directory above it; run djops inside your "
        "Django project, or give the file with -c PATH"
    )


def resolve_config_path(given: Path | None, cwd: Path | None = None) -> Path:
    """The config file to use: the one given with -c, or the nearest deploy/djops.yml."""
    return given if given is not None else find_config(cwd if cwd is not None else Path())


def project_root(config_path: Path) -> Path:
    """The repository root that project_dir and requirements are relative to.

    That is the directory holding deploy/ when the file is in a directory named deploy,
    otherwise the directory the file is in.
    """
    directory = config_path.parent
    return directory.parent if directory.name == "deploy" else directory


def _python_from_project(root: Path) -> tuple[str | None, str]:
    """(version, where it came from) from .python-version or pyproject's requires-python."""
    version_file = root / ".python-version"
    if version_file.is_file():
        lines = [
            line.strip()
            for line in version_file.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if lines:
            found = _PYTHON_VERSION_FILE_RE.fullmatch(lines[0])
            return (found.group(1) if found else None, f".python-version says {lines[0]!r}")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return (None, "pyproject.toml cannot be parsed")
        spec = data.get("project", {}).get("requires-python")
        if isinstance(spec, str):
            # The specifier itself goes to the server: uv picks the distro's Python when it
            # satisfies it, and only otherwise a managed one.
            usable = _lowest_python(spec) is not None
            return (spec.replace(" ", "") if usable else None, f"requires-python is {spec!r}")
    return (None, "there is no .python-version and no requires-python in pyproject.toml")


def _lowest_python(spec: str) -> str | None:
    """The lowest 3.x release a requires-python specifier allows, as "3.12" (or "3.12.4" for ==)."""
    best: tuple[int, ...] | None = None
    exact = None
    for clause in spec.split(","):
        found = re.fullmatch(r"\s*(>=|~=|==)\s*(3)\.(\d+)(?:\.(\d+))?(\.\*)?\s*", clause)
        if not found:
            continue
        operator, major, minor, patch, star = found.groups()
        if operator == "==" and patch is not None and not star:
            exact = f"{major}.{minor}.{patch}"
        candidate = (int(major), int(minor))
        best = candidate if best is None or candidate > best else best
    if exact:
        return exact
    return f"{best[0]}.{best[1]}" if best else None


def resolve_python(config: ProjectConfig, root: Path) -> str:
    """The Python version to deploy: python: from the file, else what the project pins."""
    if config.python is not None:
        return config.python
    version, origin = _python_from_project(root)
    if version is None:
        raise UsageError(
            f"python: not set, and the project does not say which version it needs ({origin}); "
            'set python: "3.12" (for example) in the config'
        )
    return version


def project_problems(config: ProjectConfig, root: Path) -> list[str]:
    """What in the project itself does not match a valid config (files it names, Python)."""
    problems = []
    project_dir = root / config.project_dir
    if not (project_dir / "manage.py").is_file():
        problems.append(
            f"project_dir: no manage.py in {project_dir} (project_dir is relative to the "
            f"repository root, {root})"
        )
    requirements = root / config.requirements
    if not requirements.is_file():
        problems.append(f"requirements: {requirements} does not exist")
    for stage, hooks in config.hooks:
        for index, hook in enumerate(hooks):
            if hook.tasks is not None and not (root / hook.tasks).is_file():
                loc = format_loc(("hooks", stage, index, "tasks"))
                problems.append(f"{loc}: {root / hook.tasks} does not exist")
    try:
        resolve_python(config, root)
    except UsageError as exc:
        problems.append(str(exc))
    problems.extend(provision_problems(config, root))
    return problems


def provision_problems(config: ProjectConfig, root: Path) -> list[str]:
    """What would stop `djops provision` on the servers: TLS files, admin users."""
    problems = []
    for name, environment in config.environments.items():
        if isinstance(environment.tls, ProvidedTls):
            problems.extend(_provided_tls_problems(environment.tls, root, ("environments", name)))
    problems.extend(access_problems(config))
    return problems


def controller_file(root: Path, value: str) -> Path:
    """A path of the config on this machine: ~ expanded, relative to the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


# What each file must hold, by the PEM labels it may start with.
_PEM_LABELS = {
    "certificate": ("CERTIFICATE",),
    "private_key": ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
}


def _provided_tls_problems(tls: ProvidedTls, root: Path, loc: Loc) -> list[str]:
    problems = []
    for key in ("certificate", "private_key"):
        where = format_loc((*loc, "tls", key))
        path = controller_file(root, getattr(tls, key))
        try:
            head = path.read_bytes()[: 64 * 1024].decode("ascii", errors="replace")
        except FileNotFoundError:
            problems.append(f"{where}: {path} does not exist")
            continue
        except OSError as exc:
            problems.append(f"{where}: {path} cannot be read: {exc.strerror or exc}")
            continue
        labels = re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----", head)
        if not labels or labels[0] not in _PEM_LABELS[key]:
            what = "certificate chain (leaf first)" if key == "certificate" else "private key"
            problems.append(f"{where}: {path} is not a PEM {what}")
    if not problems:
        problems.extend(_key_pair_problems(tls, root, loc))
    return problems


def _key_pair_problems(tls: ProvidedTls, root: Path, loc: Loc) -> list[str]:
    """The web hosts refuse a key that is not the certificate's: say so before they are reached.

    Messages name the files only; nothing read from the key is shown.
    """
    # cryptography comes with ansible-core; imported here, as only this check needs it.
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    certificate_path = controller_file(root, tls.certificate)
    key_path = controller_file(root, tls.private_key)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    try:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    except ValueError:
        where = format_loc((*loc, "tls", "certificate"))
        return [f"{where}: {certificate_path} holds no readable PEM certificate"]
    where = format_loc((*loc, "tls", "private_key"))
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except TypeError:
        return [
            f"{where}: {key_path} is encrypted with a passphrase; the web server reads it "
            "unattended: give it without one (openssl pkey -in KEY -out NEW) and keep it private"
        ]
    except (ValueError, UnsupportedAlgorithm):
        return [f"{where}: {key_path} holds no readable PEM private key"]
    if key.public_key().public_bytes(encoding, public) != certificate.public_key().public_bytes(
        encoding, public
    ):
        return [
            f"{where}: {key_path} is not the key of {certificate_path} (their public keys "
            "differ); give the key the certificate was issued for"
        ]
    return []


def access_problems(config: ProjectConfig) -> list[str]:
    """What keeps the base role from hardening a real host without locking djops out.

    The base role turns password and root login off and lets in only the users it manages: the
    login user of every real host must be one of admin_users (or root, with admin_users to take
    over). Sandbox hosts bring their own admin user.
    """
    problems = []
    for name, environment in config.environments.items():
        loc: Loc = ("environments", name)
        admins = {user.name for user in environment.admin_users}
        real = [(i, h) for i, h in enumerate(environment.hosts) if not h.is_sandbox]
        if real and not admins:
            problems.append(
                f"{format_loc((*loc, 'admin_users'))}: missing; the servers are hardened to let "
                "in only the admin users listed here: add admin_users: with your user name and "
                "public key (see docs/config.md)"
            )
            continue
        for index, host in real:
            if host.user is not None and host.user != "root" and host.user not in admins:
                problems.append(
                    f"{format_loc((*loc, 'hosts', index))}: djops logs in as {host.user!r}, "
                    "which is not in admin_users; hardening would shut it out: add it to "
                    "admin_users with its public key"
                )
    return problems


def check_config(path: Path) -> ProjectConfig:
    """load_config, then check the project files it names; ConfigError listing all problems."""
    config = load_config(path)
    problems = project_problems(config, project_root(path))
    if problems:
        raise ConfigError(str(path), problems)
    return config
