"""The pydantic models of deploy/djops.yml, and the config as plain data for display.

Each field is declared with an annotated type from fields.py, network.py or admins.py, which
validates it on its own. The models forbid unknown keys and are frozen once built.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    ValidationInfo,
    model_validator,
)

from djops.config.admins import AdminName, PublicKey
from djops.config.constants import ALL_ROLES, ALL_SERVICES, LETSENCRYPT_PRODUCTION, Role, Service
from djops.config.fields import (
    _HOOK_FORMS,
    AppName,
    Calendar,
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
    JobName,
    JobTimeout,
    MediaUrl,
    ProcessCommand,
    ProcessInstances,
    ProcessName,
    ProjectDir,
    PythonVersion,
    ReleasesKept,
    RequirementsPath,
    SandboxName,
    StopTimeout,
    UnixUser,
    UploadSize,
)
from djops.config.network import Address, DomainName, Email, HttpsUrl, Port, parse_host_string
from djops.config.problems import _fail, _show, _suggest
from djops.config.reserved import _DEFAULT_ENV_NAMES
from djops.config.rules import _cross_field_problems, _host_mapping_problems
from djops.errors import UsageError


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

    secret_key: EnvVarName = _DEFAULT_ENV_NAMES["secret_key"]
    secret_key_fallbacks: EnvVarName = _DEFAULT_ENV_NAMES["secret_key_fallbacks"]
    database_url: EnvVarName = _DEFAULT_ENV_NAMES["database_url"]
    redis_url: EnvVarName = _DEFAULT_ENV_NAMES["redis_url"]
    allowed_hosts: EnvVarName = _DEFAULT_ENV_NAMES["allowed_hosts"]
    csrf_trusted_origins: EnvVarName = _DEFAULT_ENV_NAMES["csrf_trusted_origins"]
    release: EnvVarName = _DEFAULT_ENV_NAMES["release"]
    media_root: EnvVarName = _DEFAULT_ENV_NAMES["media_root"]


class Checks(_Model):
    """What a deploy checks of the site as a visitor sees it, besides the health check."""

    static: bool = True
    cache: bool = True
    address: bool = True


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


_PROCESS_FORMS = "write the command, or command: COMMAND with instances, stop_timeout, singleton"


class Process(_Model):
    """A long-running command next to the web app (a worker, a scheduler, a looping command).

    Written as the command (a string, split as a shell would, or a list of arguments), or as a
    mapping with command: and the settings below. It runs without a shell.
    """

    command: ProcessCommand
    instances: ProcessInstances = 1
    stop_timeout: StopTimeout = 30
    singleton: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _from_command(cls, data: Any) -> Any:
        if isinstance(data, (str, list, tuple)):
            return {"command": data}
        if data is None:
            _fail(f"is empty; {_PROCESS_FORMS}")
        if not isinstance(data, Mapping):
            _fail(f"{_show(data)} is not a process; {_PROCESS_FORMS}")
        if "command" not in data:
            _fail(f"has no command; {_PROCESS_FORMS}")
        return data

    @model_validator(mode="after")
    def _one_singleton(self) -> Process:
        if self.singleton and self.instances != 1:
            _fail(
                f"a singleton runs once in the environment: remove instances: {self.instances}, "
                "or singleton: true"
            )
        return self


class Job(_Model):
    """A command run on a schedule against the served release (a systemd timer).

    command: as a process's (no shell); calendar: a systemd calendar expression (OnCalendar=).
    """

    command: ProcessCommand
    calendar: Calendar
    timeout: JobTimeout = 3600

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        forms = "give command: COMMAND and calendar: WHEN (e.g. daily)"
        if data is None:
            _fail(f"is empty; {forms}")
        if not isinstance(data, Mapping):
            _fail(f"{_show(data)} is not a job; {forms}")
        for key in ("command", "calendar"):
            if key not in data:
                _fail(f"has no {key}; {forms}")
        return data


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
    checks: Checks = Field(default_factory=Checks)
    releases_kept: ReleasesKept = 5
    media_url: MediaUrl = "/media/"
    max_upload_size: UploadSize = "10m"
    env_names: EnvNames = Field(default_factory=EnvNames)
    list_separator: Literal[",", " "] = ","
    env: dict[EnvVarName, EnvValue] = Field(default_factory=dict)
    hooks: Hooks = Field(default_factory=Hooks)
    processes: dict[ProcessName, Process] = Field(default_factory=dict)
    schedule: dict[JobName, Job] = Field(default_factory=dict)
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


def config_as_data(
    config: ProjectConfig, environment: str | None = None, python: str | None = None
) -> dict[str, Any]:
    """The config as plain data with every default filled in, for display.

    With `environment`, that environment's settings are merged into the top level (env included)
    and the other environments are left out. `python` replaces an unset python: (resolved from
    the project by the caller).
    """
    dumped = config.model_dump(mode="json", exclude_none=True)
    # Commands as the user writes them, one line each.
    for key in ("processes", "schedule"):
        for entry in dumped.get(key, {}).values():
            entry["command"] = shlex.join(entry["command"])
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
