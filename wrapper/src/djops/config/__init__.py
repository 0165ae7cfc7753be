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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from djops.config.admins import AdminName, PublicKey
from djops.config.constants import (
    ALL_ROLES,
    ALL_SERVICES,
    CONFIG_RELPATH,
    LETSENCRYPT_PRODUCTION,
    LETSENCRYPT_STAGING,
    Role,
    Service,
)
from djops.config.fields import (
    _APP_RE,
    _ENV_VAR_RE,
    _HOOK_FORMS,
    AppName,
    ControllerFile,
    DebPackage,
    DottedPath,
    EntryPoint,
    EnvironmentName,
    EnvValue,
    EnvVarName,
    HealthcheckPath,
    HookCommand,
    HookTasksPath,
    ProjectDir,
    PythonVersion,
    ReleasesKept,
    RequirementsPath,
    SandboxName,
    UnixUser,
)
from djops.config.network import Address, DomainName, Email, HttpsUrl, Port, parse_host_string
from djops.config.problems import Loc, Problem, _clip, _fail, _show, _suggest, format_loc
from djops.config.reserved import (
    _MANAGED_ENV_SOURCES,
    _MAX_ENV_TOTAL_BYTES,
    _MAX_ENV_VAR_BYTES,
    _PYTHON_ENV_ALLOWED,
    _RESERVED_APP_NAMES,
    _RESERVED_ENV_NAMES,
    _RESERVED_ENV_PREFIXES,
    _SECRET_ENV_FIELDS,
    _VAULT_HINT,
    _reserved_env_reason,
)
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

# What each role means on a host, and which service needs it (for messages).
_ROLE_PURPOSE = {"web": "nginx", "app": "the app server", "db": "PostgreSQL", "cache": "Redis"}
_SERVICE_ROLE = {"postgres": "db", "redis": "cache"}


_PYTHON_VERSION_FILE_RE = re.compile(r"(?:cpython-|python)?(3\.\d{1,2}(?:\.\d{1,3})?)(?:[-+].*)?")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _deferred(info: ValidationInfo) -> bool:
    """True while load_config validates: it runs the cross-field checks itself, on raw data."""
    return bool(info.context and info.context.get("djops_defer_cross_checks"))


class Host(_Model):
    """One server of an environment, in its parsed form.

    Written in the file as ``sandbox:web1``, ``203.0.113.10``, ``deploy@web2.example.com:2222``
    or as a mapping with these fields. A sandbox host has no address until its sandbox is up.
    """

    sandbox: SandboxName | None = None
    address: Address | None = None
    user: UnixUser | None = None
    port: Port | None = None
    roles: Annotated[tuple[Role, ...], Field(min_length=1)] = ALL_ROLES

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            try:
                return parse_host_string(data)
            except ValueError as exc:
                _fail(str(exc))
        if data is None:
            _fail("is empty; write [user@]host[:port], sandbox:NAME, or a mapping with address:")
        if not isinstance(data, Mapping):
            _fail(
                f"{_show(data)} is not a host; write [user@]host[:port], sandbox:NAME, "
                "or a mapping with address:"
            )
        return data

    @model_validator(mode="after")
    def _check_together(self, info: ValidationInfo) -> Host:
        if not _deferred(info):
            problems = _host_mapping_problems(self.model_dump(), ())
            if problems:
                _fail("; ".join(str(p) for p in problems))
        return self

    @property
    def name(self) -> str:
        """The inventory name: the sandbox name, or the address."""
        return self.sandbox if self.sandbox is not None else str(self.address)

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None


class EnvNames(_Model):
    """The names of the environment variables djops sets for the app."""

    secret_key: EnvVarName = "SECRET_KEY"  # noqa: S105 (a variable name, not its value)
    secret_key_fallbacks: EnvVarName = "SECRET_KEY_FALLBACKS"  # noqa: S105
    database_url: EnvVarName = "DATABASE_URL"
    redis_url: EnvVarName = "REDIS_URL"
    allowed_hosts: EnvVarName = "ALLOWED_HOSTS"
    csrf_trusted_origins: EnvVarName = "CSRF_TRUSTED_ORIGINS"
    release: EnvVarName = "APP_RELEASE"


class Hook(_Model):
    """One hook: a shell command, or an Ansible task file of the project's.

    Written in the file as a string (a command), ``command: COMMAND`` or ``tasks: PATH``, PATH
    relative to the repository root.
    """

    command: HookCommand | None = None
    tasks: HookTasksPath | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            if not data.strip():
                _fail(f"is empty; {_HOOK_FORMS}")
            return {"command": data}
        if data is None:
            _fail(f"is empty; {_HOOK_FORMS}")
        if not isinstance(data, Mapping):
            _fail(f"{_show(data)} is not a hook; {_HOOK_FORMS}")
        if "command" in data and "tasks" in data:
            _fail("give command or tasks, not both (two entries run both, in order)")
        if not data:
            _fail(f"is empty; {_HOOK_FORMS}")
        for key, what in (("command", "the shell command to run"), ("tasks", "a task file")):
            if key in data and data[key] is None:
                _fail(f"{key} has no value; give {what}")
        return data


HookList = tuple[Hook, ...]


class Hooks(_Model):
    """What runs at each stage of a deploy, in order (the app role's app_hooks)."""

    before_build: HookList = ()
    after_build: HookList = ()
    before_migrate: HookList = ()
    after_migrate: HookList = ()
    before_switch: HookList = ()
    after_switch: HookList = ()


class AdminUser(_Model):
    """A person who administers the servers: a sudo user that logs in with these keys."""

    name: AdminName
    keys: Annotated[tuple[PublicKey, ...], Field(min_length=1)]


class ProvidedTls(_Model):
    """tls: with a certificate of your own: PEM files on this machine, sent to the web hosts.

    Paths are relative to the repository root, absolute, or start with ~.
    """

    source: Literal["provided"] = "provided"
    certificate: ControllerFile
    private_key: ControllerFile


def _tls_form(value: Any) -> str:
    return "files" if isinstance(value, Mapping) else "name"


TlsSetting = Annotated[
    Annotated[Literal["acme", "self-signed", "provided"], Tag("name")]
    | Annotated[ProvidedTls, Tag("files")],
    Discriminator(_tls_form),
]
_UNION_TAGS = frozenset({"name", "files"})


class Environment(_Model):
    """One place the app is deployed to (staging, production, …)."""

    hosts: Annotated[tuple[Host, ...], Field(min_length=1)]
    domains: Annotated[tuple[DomainName, ...], Field(min_length=1)]
    tls: TlsSetting = "acme"
    acme_email: Email | None = None
    acme_directory: HttpsUrl = LETSENCRYPT_PRODUCTION
    admin_users: tuple[AdminUser, ...] = ()
    env: dict[EnvVarName, EnvValue] = Field(default_factory=dict)

    def hosts_with(self, role: Role) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if role in h.roles)

    @property
    def tls_source(self) -> Literal["acme", "self-signed", "provided"]:
        return "provided" if isinstance(self.tls, ProvidedTls) else self.tls


class ProjectConfig(_Model):
    """deploy/djops.yml, validated and with every default filled in."""

    app: AppName
    project_dir: ProjectDir = "."
    settings: DottedPath
    wsgi: EntryPoint | None = None
    asgi: EntryPoint | None = None
    python: PythonVersion | None = None
    requirements: RequirementsPath = "requirements.txt"
    system_packages: tuple[DebPackage, ...] = ()
    appserver: Literal["gunicorn", "uwsgi"] = "gunicorn"
    services: tuple[Service, ...] = ALL_SERVICES
    healthcheck: HealthcheckPath = "/healthz"
    releases_kept: ReleasesKept = 5
    env_names: EnvNames = Field(default_factory=EnvNames)
    list_separator: Literal[",", " "] = ","
    env: dict[EnvVarName, EnvValue] = Field(default_factory=dict)
    hooks: Hooks = Field(default_factory=Hooks)
    environments: Annotated[dict[EnvironmentName, Environment], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_together(self, info: ValidationInfo) -> ProjectConfig:
        if not _deferred(info):
            problems = _cross_field_problems(self.model_dump())
            if problems:
                _fail("; ".join(str(p) for p in problems))
        return self

    @property
    def entry_point(self) -> tuple[Literal["wsgi", "asgi"], str]:
        """("wsgi", "notes.wsgi:application") or ("asgi", …)."""
        if self.asgi is not None:
            return ("asgi", self.asgi)
        return ("wsgi", str(self.wsgi))

    @property
    def uses_pyproject(self) -> bool:
        """True when dependencies come from pyproject.toml (and its uv.lock, if present)."""
        return PurePosixPath(self.requirements).name == "pyproject.toml"

    def environment(self, name: str) -> Environment:
        """The environment called `name`; UsageError naming the ones there are otherwise."""
        try:
            return self.environments[name]
        except KeyError:
            pass
        names = sorted(self.environments)
        close = _suggest(name, names)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise UsageError(
            f"no environment {name!r} in the config{hint}; it defines: {', '.join(names)}"
        ) from None

    def env_for(self, name: str) -> dict[str, str]:
        """The extra env vars of one environment: the top-level env, then the environment's."""
        return {**self.env, **self.environment(name).env}


# --- cross-field rules (on raw data, so they run even when some field is broken) --------------


def _present(mapping: Mapping[str, Any], key: str) -> bool:
    return mapping.get(key) is not None


def _duplicate_problems(items: Any, loc: Loc, what: str) -> Iterator[Problem]:
    if not isinstance(items, list | tuple):
        return
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, str):
            continue
        if item in first:
            yield Problem(
                (*loc, index),
                f"{item!r} is listed twice (also at {format_loc((*loc, first[item]))}); "
                f"list each {what} once",
            )
        else:
            first[item] = index


def _host_mapping_problems(host: Mapping[str, Any], loc: Loc) -> list[Problem]:
    problems = []
    if _present(host, "sandbox"):
        if _present(host, "address"):
            problems.append(Problem((*loc, "address"), "set address or sandbox, not both"))
        problems.extend(
            Problem((*loc, key), f"a sandbox host takes no {key}: djops knows how to reach it")
            for key in ("user", "port")
            if _present(host, key)
        )
    elif not _present(host, "address"):
        problems.append(
            Problem(
                (*loc, "address"),
                "missing; add address: HOST (a host name or IP address), "
                "or sandbox: NAME for a djops sandbox host",
            )
        )
    problems.extend(_duplicate_problems(host.get("roles"), (*loc, "roles"), "role"))
    return problems


def _raw_host(entry: Any) -> Mapping[str, Any] | None:
    """A host entry as a mapping, or None when it is malformed (reported elsewhere)."""
    if isinstance(entry, str):
        try:
            return parse_host_string(entry)
        except ValueError:
            return None
    return entry if isinstance(entry, Mapping) else None


def _host_identity(host: Mapping[str, Any]) -> str | None:
    if isinstance(host.get("sandbox"), str):
        return f"sandbox:{host['sandbox']}"
    address = host.get("address")
    if not isinstance(address, str):
        return None
    address = address.lower()
    port = host.get("port")
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _valid_roles(host: Mapping[str, Any]) -> set[str] | None:
    roles = host.get("roles", ALL_ROLES)
    if roles is None:
        return None
    if not isinstance(roles, list | tuple) or not all(r in ALL_ROLES for r in roles):
        return None
    return set(roles)


def _hosts_problems(hosts: Any, loc: Loc, services: Sequence[str]) -> list[Problem]:
    if not isinstance(hosts, list | tuple) or not hosts:
        return []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    roles_per_host: list[set[str] | None] = []
    for index, entry in enumerate(hosts):
        host = _raw_host(entry)
        if host is None:
            roles_per_host.append(None)
            continue
        if isinstance(entry, Mapping):
            problems.extend(_host_mapping_problems(host, (*loc, index)))
        identity = _host_identity(host)
        if identity is not None and identity in seen:
            problems.append(
                Problem(
                    (*loc, index),
                    f"this host is listed twice (also at {format_loc((*loc, seen[identity]))}); "
                    "list each host once",
                )
            )
        elif identity is not None:
            seen[identity] = index
        roles_per_host.append(_valid_roles(host))
    if any(roles is None for roles in roles_per_host):
        return problems  # some host is broken; its roles cannot be judged yet
    needed = ["web", "app"] + [_SERVICE_ROLE[s] for s in services if s in _SERVICE_ROLE]
    for role in needed:
        if not any(role in roles for roles in roles_per_host if roles is not None):
            service = _service_of(role)
            because = f", and services include {service}" if service else ""
            problems.append(
                Problem(
                    loc,
                    f"no host has the {role} role ({_ROLE_PURPOSE[role]} runs there){because}; "
                    f"add {role} to one host's roles",
                )
            )
    return problems


def _service_of(role: str) -> str | None:
    return next((service for service, r in _SERVICE_ROLE.items() if r == role), None)


def _effective_env_names(raw: Any) -> dict[str, str]:
    names = EnvNames().model_dump()
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
                    f"(the default is {EnvNames.model_fields[key].default})",
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


# Top-level domains kept for tests, examples and local networks (RFC 2606, 6761, 6762, 8375):
# Let's Encrypt issues no certificates for names under them.
_UNISSUABLE_TLDS = ("test", "example", "invalid", "local", "internal", "home.arpa", "onion")
# Let's Encrypt's limit of names on one certificate (each site gets one certificate).
_ACME_MAX_DOMAINS = 100


def _acme_domain_problems(domains: Any, loc: Loc) -> list[Problem]:
    if not isinstance(domains, list | tuple):
        return []
    problems = []
    if len(domains) > _ACME_MAX_DOMAINS:
        problems.append(
            Problem(
                loc,
                f"{len(domains)} names; an ACME certificate carries at most {_ACME_MAX_DOMAINS} "
                "(Let's Encrypt's limit): list fewer, or split the names over environments",
            )
        )
    for index, domain in enumerate(domains):
        if not isinstance(domain, str):
            continue
        tld = next((t for t in _UNISSUABLE_TLDS if domain.endswith(f".{t}")), None)
        if tld is not None:
            problems.append(
                Problem(
                    (*loc, index),
                    f"{domain!r}: names under .{tld} are reserved and Let's Encrypt issues no "
                    "certificates for them; use tls: self-signed (or tls: provided)",
                )
            )
    return problems


def _environment_problems(
    environment: Mapping[str, Any], loc: Loc, names: Mapping[str, str], services: Sequence[str]
) -> list[Problem]:
    problems = _hosts_problems(environment.get("hosts"), (*loc, "hosts"), services)
    problems.extend(_duplicate_problems(environment.get("domains"), (*loc, "domains"), "domain"))
    tls = environment.get("tls", "acme")
    directory = environment.get("acme_directory", LETSENCRYPT_PRODUCTION)
    if tls == "acme" and directory in (LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING):
        # A private ACME server (a company CA, a test one) sets its own rules.
        problems.extend(_acme_domain_problems(environment.get("domains"), (*loc, "domains")))
    if tls == "acme" and not _present(environment, "acme_email"):
        why = "tls: acme" if "tls" in environment else "tls is acme by default, which"
        problems.append(
            Problem(
                (*loc, "acme_email"),
                f"missing; {why} needs an e-mail address for certificate notices: add "
                "acme_email: you@example.com (or set tls: self-signed or tls: provided)",
            )
        )
    if tls == "provided":
        problems.append(
            Problem(
                (*loc, "tls"),
                "provided needs the certificate and its key: write tls: with certificate: PATH "
                "and private_key: PATH (PEM files on this machine) under it",
            )
        )
    problems.extend(_admin_users_problems(environment.get("admin_users"), (*loc, "admin_users")))
    problems.extend(_env_problems(environment.get("env"), (*loc, "env"), names))
    return problems


def _admin_users_problems(users: Any, loc: Loc) -> list[Problem]:
    if not isinstance(users, list | tuple):
        return []
    names = [u.get("name") if isinstance(u, Mapping) else None for u in users]
    return [
        Problem((*p.loc, "name"), p.message) for p in _duplicate_problems(names, loc, "admin user")
    ]


def _app_account_problems(app: Any, environments: Mapping[str, Any]) -> list[Problem]:
    """The app's unix user must not be an account the config names: a login or an admin user."""
    if not isinstance(app, str):
        return []
    problems = []
    for name, environment in environments.items():
        if not isinstance(environment, Mapping):
            continue
        loc: Loc = ("environments", name)
        hosts = environment.get("hosts")
        for index, entry in enumerate(hosts if isinstance(hosts, list | tuple) else ()):
            host = _raw_host(entry)
            if host is not None and host.get("user") == app:
                problems.append(
                    Problem(
                        (*loc, "hosts", index),
                        f"djops logs in as {app!r}, the app's name: the app's own unix user would "
                        "replace that login's home, shell and password and lock you out; "
                        "choose another app name or log in as another user",
                    )
                )
        users = environment.get("admin_users")
        for index, user in enumerate(users if isinstance(users, list | tuple) else ()):
            if isinstance(user, Mapping) and user.get("name") == app:
                problems.append(
                    Problem(
                        (*loc, "admin_users", index, "name"),
                        f"{app!r} is the app's name: the app's own unix user would take over this "
                        "admin's account; choose another app name or admin name",
                    )
                )
    return problems


def _cross_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    has_wsgi, has_asgi = _present(data, "wsgi"), _present(data, "asgi")
    if has_wsgi and has_asgi:
        problems.append(
            Problem(("asgi",), "wsgi and asgi are both set; keep the one your app is served by")
        )
    elif not has_wsgi and not has_asgi:
        problems.append(
            Problem(
                ("wsgi",),
                "missing; set wsgi: PROJECT.wsgi:application (or asgi: PROJECT.asgi:application "
                "for an ASGI app)",
            )
        )
    if has_asgi and not has_wsgi and data.get("appserver") == "uwsgi":
        problems.append(
            Problem(
                ("appserver",),
                "uwsgi cannot serve an ASGI app; use appserver: gunicorn (it runs uvicorn "
                "workers) or give wsgi: instead of asgi:",
            )
        )
    for key, what in (("system_packages", "package"), ("services", "service")):
        problems.extend(_duplicate_problems(data.get(key), (key,), what))
    problems.extend(_env_names_problems(data.get("env_names")))
    names = _effective_env_names(data.get("env_names"))
    problems.extend(_env_problems(data.get("env"), ("env",), names))
    services = data.get("services", ALL_SERVICES)
    if not isinstance(services, list | tuple):
        services = ()
    environments = data.get("environments")
    if isinstance(environments, Mapping):
        problems.extend(_app_account_problems(data.get("app"), environments))
        for name, environment in environments.items():
            if isinstance(environment, Mapping):
                problems.extend(
                    _environment_problems(environment, ("environments", name), names, services)
                )
    problems.extend(_env_total_problems(data))
    return problems


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


def config_as_data(
    config: ProjectConfig, environment: str | None = None, python: str | None = None
) -> dict[str, Any]:
    """The config as plain data with every default filled in, for display.

    With `environment`, that environment's settings are merged into the top level (env included)
    and the other environments are left out. `python` replaces an unset python: (resolved from
    the project by the caller).
    """
    dumped = config.model_dump(mode="json", exclude_none=True)
    if python is not None:
        dumped["python"] = python
    data = {key: dumped[key] for key in ProjectConfig.model_fields if key in dumped}
    environments = data.pop("environments")
    if environment is None:
        data["environments"] = environments
        return data
    config.environment(environment)  # UsageError naming the environments when unknown
    chosen = environments[environment]
    merged = {key: value for key, value in data.items() if key != "env"}
    merged = {"app": merged.pop("app"), "environment": environment, **merged}
    merged.update({key: value for key, value in chosen.items() if key != "env"})
    merged["env"] = config.env_for(environment)
    return merged
