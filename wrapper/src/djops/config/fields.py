"""Validators of the project's own fields (app name, paths, Python, hooks, env vars, names).

Each `_check_*`, and each `_NameRule`'s check, sees one value: it returns it, or raises through
`_fail` with a message that says what to change. The rules that tie fields together are in
rules.py. The annotated types at the end are what the models declare their fields with.
"""

from __future__ import annotations

import keyword
import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, StrictInt

from djops.config.calendar import calendar_problem
from djops.config.problems import _fail
from djops.config.reserved import (
    _COMMON_ACCOUNT_NAMES,
    _ETC_DJOPS_DIRS,
    _POSTGRES_ROLE_PREFIX,
    _RESERVED_APP_NAMES,
)
from djops.sandbox import naming as sandbox_naming

_APP_RE = re.compile(r"[a-z][a-z0-9_]{0,24}")
_ENV_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,30}")
_UNIX_USER_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_ENV_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEB_PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_PYTHON_RE = re.compile(r"3\.(\d{1,2})(\.\d{1,3})?")


@dataclass(frozen=True)
class _NameRule:
    """A kind of name that a regular expression decides, and the words that tell its rule.

    The names of things djops makes (users, environments, sandboxes, variables) are checked this
    way; a message spells the rule out, since a user should not have to read the expression.
    """

    what: str
    pattern: re.Pattern[str]
    rule: str

    def problem(self, value: str) -> str | None:
        """Why `value` is not such a name, or None when it is one."""
        if self.pattern.fullmatch(value):
            return None
        return f"{value!r} is not a valid {self.what} ({self.rule})"

    def check(self, value: str) -> str:
        """The after-validator: `value`, or a validation error that says the rule."""
        problem = self.problem(value)
        if problem:
            _fail(problem)
        return value


_ENV_VAR_NAME = _NameRule(
    "environment variable name", _ENV_VAR_RE, "letters, digits and _, not starting with a digit"
)
_ENVIRONMENT_NAME = _NameRule(
    "environment name",
    _ENV_NAME_RE,
    "lowercase letters, digits, _ and -, starting with a letter, at most 31 characters",
)
_UNIX_USER_NAME = _NameRule(
    "unix user name",
    _UNIX_USER_RE,
    "lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters",
)
_SANDBOX_NAME = _NameRule("sandbox name", sandbox_naming.NAME_RE, sandbox_naming.NAME_RULE)
# No '-': a process's units are djops-<app>-<name>-<n>@<release>.service, read back by that.
_PROCESS_NAME = _NameRule(
    "process name",
    re.compile(r"[a-z][a-z0-9_]{0,23}"),
    "lowercase letters, digits and _, starting with a letter, at most 24 characters",
)
_JOB_NAME = _NameRule("job name", _PROCESS_NAME.pattern, _PROCESS_NAME.rule)


def _check_app(value: str) -> str:
    if not _APP_RE.fullmatch(value):
        hint = ""
        fixed = re.sub(r"[^a-z0-9_]", "_", value.lower()).lstrip("_0123456789")[:25]
        if fixed and _APP_RE.fullmatch(fixed):
            hint = f", e.g. {fixed!r}"
        _fail(
            f"{value!r} is not a valid app name (lowercase letters, digits and _, starting with "
            f"a letter, at most 25 characters{hint}): it becomes a unix user (and <app>-build, "
            "at most 31), a PostgreSQL database and role, and a Redis server of its own"
        )
    if value in _ETC_DJOPS_DIRS:
        _fail(f"{value!r} is the name of djops' own directory /etc/djops/{value}; choose another")
    if value in _RESERVED_APP_NAMES:
        _fail(f"{value!r} already belongs to the system or to PostgreSQL/Redis; choose another")
    if value in _COMMON_ACCOUNT_NAMES:
        _fail(
            f"{value!r} is the name of an account servers often have (a login or a service); "
            "the app's own unix user would take it over: choose another"
        )
    # The app's roles are <app>_owner, <app>_a and <app>_b: "pg" makes pg_owner too.
    if f"{value}_".startswith(_POSTGRES_ROLE_PREFIX):
        _fail(
            f"{value!r} makes PostgreSQL roles ({value}_owner, …) starting with "
            f"{_POSTGRES_ROLE_PREFIX}, which PostgreSQL keeps for its own; choose another"
        )
    return value


def _is_dotted_path(value: str) -> bool:
    parts = value.split(".")
    return all(_IDENTIFIER_RE.fullmatch(p) and not keyword.iskeyword(p) for p in parts)


def _check_settings(value: str) -> str:
    if not _is_dotted_path(value):
        module = value.removesuffix(".py").replace("/", ".").strip(".")
        if module != value and _is_dotted_path(module):
            _fail(f"{value!r} is a file name; give the module path: {module!r}")
        _fail(f"{value!r} is not a dotted Python module path, e.g. 'notes.settings'")
    return value


def _check_entry_point(value: str) -> str:
    module, sep, attr = value.partition(":")
    if not sep:
        if _is_dotted_path(value):
            _fail(f"{value!r} names no callable; write it as '{value}:application'")
        _fail(f"{value!r} is not 'module.path:callable', e.g. 'notes.wsgi:application'")
    if not _is_dotted_path(module) or not _is_dotted_path(attr):
        _fail(f"{value!r} is not 'module.path:callable', e.g. 'notes.wsgi:application'")
    return value


def _check_python(value: str) -> str:  # noqa: RET503 (_fail raises)
    if _PYTHON_RE.fullmatch(value):
        return value
    stripped = re.sub(r"^(python|cpython-|py)", "", value.strip(), flags=re.IGNORECASE)
    if stripped != value and _PYTHON_RE.fullmatch(stripped):
        _fail(f"{value!r}: give the version only: {stripped!r}")
    if re.fullmatch(r"[012]\.\d+(\.\d+)?", value):
        _fail(f"{value!r}: djops deploys Python 3; give a version like '3.12'")
    if value == "3":
        _fail("give the minor version too, e.g. '3.12'")
    _fail(f"{value!r} is not a Python version; write it like '3.12' or '3.12.4'")


def _check_relative_path(value: str, what: str) -> str:
    if not value.strip():
        _fail(f"is empty; give a path relative to the repository root (default {what})")
    if value.startswith(("/", "~")) or "\\" in value or re.match(r"[A-Za-z]:", value):
        _fail(f"{value!r} must be a path relative to the repository root, written with '/'")
    if ".." in PurePosixPath(value).parts:
        _fail(f"{value!r} leaves the repository; paths must stay inside it")
    return value


def _check_project_dir(value: str) -> str:
    return _check_relative_path(value, "'.'")


_UNSUPPORTED_REQUIREMENTS = {
    "uv.lock": "give 'pyproject.toml'; the uv.lock next to it is used when present",
    "Pipfile": "Pipenv files are not read; export a requirements.txt",
    "Pipfile.lock": "Pipenv files are not read; export a requirements.txt",
    "poetry.lock": "give 'pyproject.toml', or export a requirements.txt from Poetry",
    "setup.py": "give a requirements file or 'pyproject.toml'",
    "setup.cfg": "give a requirements file or 'pyproject.toml'",
}


def _check_requirements(value: str) -> str:
    _check_relative_path(value, "'requirements.txt'")
    if value.endswith("/"):
        _fail(f"{value!r} is a directory; give a requirements file or 'pyproject.toml'")
    name = PurePosixPath(value).name
    if name in _UNSUPPORTED_REQUIREMENTS:
        _fail(f"{value!r}: {_UNSUPPORTED_REQUIREMENTS[name]}")
    return value


_HOOK_FORMS = "write a shell command, command: COMMAND, or tasks: PATH (an Ansible task file)"


def _check_hook_command(value: str) -> str:
    if not value.strip():
        _fail("is empty; give the shell command to run")
    return value


def _check_hook_tasks(value: str) -> str:
    if not value.strip():
        _fail("is empty; give the task file's path relative to the repository root")
    _check_relative_path(value, "none")  # not empty: checked above
    if value.endswith("/"):
        _fail(f"{value!r} is a directory; give an Ansible task file, e.g. 'deploy/hooks/setup.yml'")
    return value


# Words that do something only in a shell: a process's command runs without one.
_SHELL_WORDS = frozenset({"&&", "||", "|", ";", "&", ">", ">>", "<", "2>", "2>&1"})
_SHELL_VARIABLE_RE = re.compile(r"\$(\{|[A-Za-z_])")


def _check_process_command(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """A process's command as its arguments: a string is split as a shell would, lists stay."""
    if isinstance(value, str):
        try:
            args = tuple(shlex.split(value))
        except ValueError as error:
            _fail(f"{value!r} cannot be split into arguments ({error}); close the quote")
    else:
        args = tuple(value)
    if not args:
        _fail("is empty; give the program and its arguments, e.g. 'celery -A proj worker'")
    if not args[0]:
        _fail("the program is empty; give the program first, e.g. 'celery -A proj worker'")
    for arg in args:
        if "\n" in arg or "\r" in arg or "\0" in arg:
            _fail(f"argument {arg!r} holds a line break or NUL byte; put the command on one line")
        if arg in _SHELL_WORDS:
            _fail(
                f"runs without a shell, so {arg!r} would reach the program as an argument; "
                "write sh -c '…' to use a shell"
            )
        if _SHELL_VARIABLE_RE.search(arg):
            _fail(
                f"runs without a shell, so {arg!r} would reach the program as written; "
                "write sh -c '…' to use a shell, or set the value in env:"
            )
    if PurePosixPath(args[0]).name == "manage.py":
        _fail(f"starts with {args[0]!r}; write 'python manage.py …' (the release's Python runs it)")
    return args


def _check_instances(value: int) -> int:
    if not 1 <= value <= 64:
        _fail(f"{value} is out of range; run 1 to 64 instances")
    return value


def _check_stop_timeout(value: int) -> int:
    if not 1 <= value <= 86400:
        _fail(f"{value} is out of range; give 1 to 86400 seconds")
    return value


def _check_calendar(value: str) -> str:
    problem = calendar_problem(value)
    if problem:
        _fail(problem)
    return value


def _check_job_timeout(value: int) -> int:
    if not 1 <= value <= 604800:
        _fail(f"{value} is out of range; give 1 to 604800 seconds (a week)")
    return value


# nginx serves the release's static files here (the nginx role's default static_url).
STATIC_URL = "/static/"
_URL_PREFIX_RE = re.compile(r"/[^;{}\s#?%\\]*/")
_SIZE_RE = re.compile(r"([0-9]{1,6})([kKmMgG]?)")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _check_media_url(value: str) -> str:
    if "://" in value:
        _fail(f"{value!r}: give the path only, e.g. '/media/' (uploads are served by this site)")
    if value == "/":
        _fail("'/' would serve uploads in place of the whole site; give a path such as '/media/'")
    if not _URL_PREFIX_RE.fullmatch(value):
        _fail(
            f"{value!r} must be a URL path that starts and ends with '/', e.g. '/media/', "
            "without spaces, ';', '{', '}', '#', '?', '%' or '\\'"
        )
    if value.startswith(STATIC_URL) or STATIC_URL.startswith(value):
        _fail(
            f"{value!r} overlaps the static files' URL {STATIC_URL!r}: uploads need a path of "
            "their own, e.g. '/media/'"
        )
    return value


def _check_upload_size(value: str) -> str:
    match = _SIZE_RE.fullmatch(value)
    if not match:
        _fail(f"{value!r} is not a size; write a number with k, m or g, e.g. '10m' or '1g'")
    number, unit = match.groups()
    size = int(number) * _SIZE_UNITS[unit.lower()]
    if not 1024 <= size <= 100 * 1024**3:
        _fail(f"{value!r} is out of range; allow 1k to 100g")
    return value


def _check_deb_package(value: str) -> str:  # noqa: RET503 (_fail raises)
    if _DEB_PACKAGE_RE.fullmatch(value):
        return value
    if _DEB_PACKAGE_RE.fullmatch(value.lower()):
        _fail(f"{value!r}: Debian package names are lowercase: {value.lower()!r}")
    base = re.split(r"[=:]", value, maxsplit=1)[0]
    if base != value and _DEB_PACKAGE_RE.fullmatch(base):
        _fail(f"{value!r}: give the package name only: {base!r}")
    _fail(
        f"{value!r} is not a valid Debian package name (lowercase letters, digits, '+', '-' and "
        "'.', at least two characters, starting with a letter or digit)"
    )


def _check_healthcheck(value: str) -> str:
    if "://" in value:
        path = urlsplit(value).path or "/"
        _fail(f"{value!r}: give the path only: {path!r}")
    if not value.startswith("/"):
        _fail(f"{value!r} must be a path starting with '/', e.g. '/healthz'")
    if re.search(r"[\s#]", value):
        _fail(f"{value!r} must be a URL path without spaces or '#'")
    return value


def _check_releases_kept(value: int) -> int:
    if not 2 <= value <= 50:
        _fail(f"{value} is out of range; keep 2 to 50 releases (rollback needs at least 2)")
    return value


def _check_env_value(value: str) -> str:
    if "\0" in value:
        _fail("holds a NUL byte, which no environment variable can carry; remove it")
    if "\n" in value or "\r" in value:
        _fail(
            "must be a single line: environment files cannot hold line breaks "
            "(put it on one line, or encode it, e.g. base64)"
        )
    return value


def _check_controller_file(value: str) -> str:
    if not value.strip():
        _fail("is empty; give the file's path on this machine")
    if "\n" in value or "\0" in value:
        _fail("must be a file's path, not its content (give the path of the PEM file)")
    return value


AppName = Annotated[str, AfterValidator(_check_app)]
DottedPath = Annotated[str, AfterValidator(_check_settings)]
EntryPoint = Annotated[str, AfterValidator(_check_entry_point)]
PythonVersion = Annotated[str, AfterValidator(_check_python)]
ProjectDir = Annotated[str, AfterValidator(_check_project_dir)]
RequirementsPath = Annotated[str, AfterValidator(_check_requirements)]
DebPackage = Annotated[str, AfterValidator(_check_deb_package)]
HookCommand = Annotated[str, AfterValidator(_check_hook_command)]
HookTasksPath = Annotated[str, AfterValidator(_check_hook_tasks)]
HealthcheckPath = Annotated[str, AfterValidator(_check_healthcheck)]
ReleasesKept = Annotated[StrictInt, AfterValidator(_check_releases_kept)]
EnvVarName = Annotated[str, AfterValidator(_ENV_VAR_NAME.check)]
EnvValue = Annotated[str, AfterValidator(_check_env_value)]
EnvironmentName = Annotated[str, AfterValidator(_ENVIRONMENT_NAME.check)]
UnixUser = Annotated[str, AfterValidator(_UNIX_USER_NAME.check)]
SandboxName = Annotated[str, AfterValidator(_SANDBOX_NAME.check)]
ProcessName = Annotated[str, AfterValidator(_PROCESS_NAME.check)]
JobName = Annotated[str, AfterValidator(_JOB_NAME.check)]
MediaUrl = Annotated[str, AfterValidator(_check_media_url)]
UploadSize = Annotated[str, AfterValidator(_check_upload_size)]
Calendar = Annotated[str, AfterValidator(_check_calendar)]
JobTimeout = Annotated[StrictInt, AfterValidator(_check_job_timeout)]
ProcessCommand = Annotated[str | tuple[str, ...], AfterValidator(_check_process_command)]
ProcessInstances = Annotated[StrictInt, AfterValidator(_check_instances)]
StopTimeout = Annotated[StrictInt, AfterValidator(_check_stop_timeout)]
ControllerFile = Annotated[str, AfterValidator(_check_controller_file)]
