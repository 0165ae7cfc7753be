"""Reserved and dangerous variable names, and env values past what an environment can carry.

The CLI refuses them in env and as names under env_names; the roles refuse the same names
(plugins/filter/env_problems.py), which the last tests check against the CLI's lists.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from test_config import config_text, only_problem, parse_config, problems_of

from djops import config
from djops.config.models import EnvNames
from djops.config.reserved import _DEFAULT_ENV_NAMES

COLLECTION = Path(__file__).resolve().parents[2]


def _load_filter(name: str):
    path = COLLECTION / "plugins" / "filter" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


env_filter = _load_filter("env_problems")

DANGEROUS = [
    "PATH",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONUSERBASE",
    "HOME",
    "USER",
    "SHELL",
    "IFS",
    "BASH_ENV",
    "STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "GUNICORN_CMD_ARGS",
    "UWSGI_MODULE",
    "LISTEN_FDS",
]


@pytest.mark.parametrize("name", DANGEROUS)
def test_env_refuses_names_that_break_or_take_over_the_app(name):
    problem = only_problem(config_text(f"env:\n  {name}: x\n"))
    assert problem.startswith(f"env.{name}: {name} is reserved: ")
    assert problem.endswith("; remove it from env")


def test_media_root_is_djops_own_unless_renamed():
    assert only_problem(config_text("env:\n  MEDIA_ROOT: /tmp\n")) == (
        "env.MEDIA_ROOT: djops sets MEDIA_ROOT itself, to the app's shared/media directory; "
        "remove it from env (or rename what djops sets, under env_names)"
    )
    renamed = "env_names:\n  media_root: DJANGO_MEDIA_ROOT\nenv:\n  MEDIA_ROOT: /tmp\n"
    assert parse_config(config_text(renamed)).env_names.media_root == "DJANGO_MEDIA_ROOT"


def test_an_environments_env_is_checked_too():
    problem = only_problem(config_text(environment="env:\n  LD_PRELOAD: /tmp/evil.so\n"))
    assert problem == (
        "environments.production.env.LD_PRELOAD: LD_PRELOAD is reserved: the dynamic loader "
        "reads it: it would load other code into every process; remove it from env"
    )


def test_harmless_python_variables_and_ordinary_names_pass():
    text = config_text(
        "env:\n  PYTHONUNBUFFERED: '1'\n  PYTHONWARNINGS: ignore\n  DJANGO_LOG_LEVEL: INFO\n"
        "  PATHS_EXTRA: x\n  MY_HOME: x\n"
    )
    assert parse_config(text).env["PYTHONUNBUFFERED"] == "1"


def test_secret_key_cannot_be_named_like_the_settings_module():
    problem = only_problem(config_text("env_names:\n  secret_key: DJANGO_SETTINGS_MODULE\n"))
    assert problem == (
        "env_names.secret_key: 'DJANGO_SETTINGS_MODULE' is reserved: djops sets it from "
        "settings; choose another name (the default is SECRET_KEY)"
    )


@pytest.mark.parametrize(
    ("key", "name"), [("release", "PATH"), ("database_url", "LD_PRELOAD"), ("redis_url", "HOME")]
)
def test_env_names_refuse_reserved_names(key, name):
    problem = only_problem(config_text(f"env_names:\n  {key}: {name}\n"))
    assert problem.startswith(f"env_names.{key}: {name!r} is reserved: ")


def test_a_variable_longer_than_the_kernel_passes_is_refused():
    value = "x" * (131072 - len("BIG="))  # with its NUL, one byte over MAX_ARG_STRLEN
    problem = only_problem(config_text(f"env:\n  BIG: {value}\n"))
    assert problem == (
        "env.BIG: NAME=value is 131072 bytes; the kernel passes at most 131071 bytes a "
        "variable: keep large data in a file"
    )
    fits = "x" * (131071 - len("BIG="))
    assert len(parse_config(config_text(f"env:\n  BIG: {fits}\n")).env["BIG"]) == len(fits)


def test_the_bytes_count_not_the_characters():
    value = "é" * 65535  # 131070 bytes in UTF-8
    assert "is 131074 bytes" in only_problem(config_text(f"env:\n  BIG: {value}\n"))


def test_variables_too_large_together_are_refused():
    top = "env:\n" + "".join(f"  TOP_{i}: {'x' * 100_000}\n" for i in range(6))
    own = "env:\n" + "".join(f"  OWN_{i}: {'x' * 100_000}\n" for i in range(5))
    problem = only_problem(config_text(top, own))
    assert problem.startswith("environments.production.env: the variables of environment ")
    assert "more than 1048576; keep large data in files" in problem


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"a\\0b"', "env.NUL: holds a NUL byte, which no environment variable can carry"),
        ('"a\\nExecStartPre=/bin/true"', "env.NUL: must be a single line"),
        ('"a\\rb"', "env.NUL: must be a single line"),
    ],
)
def test_values_an_env_file_cannot_carry_are_refused(value, message):
    problems = problems_of(config_text(f"env:\n  NUL: {value}\n"))
    assert len(problems) == 1 and problems[0].startswith(message), problems
    assert "ExecStartPre" not in problems[0]


def test_the_roles_refuse_the_same_names():
    # The reasons may name each side's own fields (settings / app_settings).
    assert env_filter.RESERVED_NAMES.keys() == config._RESERVED_ENV_NAMES.keys()
    assert env_filter.RESERVED_PREFIXES.keys() == config._RESERVED_ENV_PREFIXES.keys()
    assert env_filter.PYTHON_ALLOWED == config._PYTHON_ENV_ALLOWED
    assert env_filter.MAX_VARIABLE_BYTES == config._MAX_ENV_VAR_BYTES
    assert env_filter.MAX_TOTAL_BYTES == config._MAX_ENV_TOTAL_BYTES


def test_the_roles_filter_names_field_and_fix_without_echoing_values():
    problems = env_filter.env_problems(
        {"PATH": "x", "APP_RELEASE": "x", "OK": "fine", "BAD": "s3cret\nline", "1X": "y"},
        "app_env",
        {"APP_RELEASE": "to the id of the release being served"},
    )
    assert problems == [
        "app_env.PATH: PATH is reserved: djops sets it, the release's venv first; "
        "remove it from app_env",
        "app_env.APP_RELEASE: djops sets APP_RELEASE itself, to the id of the release being "
        "served; remove it from app_env",
        "app_env.BAD: the value holds a line break; environment files and unit files carry one "
        "line per variable: put it on one line (or encode it, e.g. base64)",
        "app_env.1X: '1X' is not a valid variable name (letters, digits and _, not starting "
        "with a digit); remove it from app_env",
    ]
    assert env_filter.env_names_problems({"secret_key": "DJANGO_SETTINGS_MODULE"}, "f") == [
        "f.secret_key: DJANGO_SETTINGS_MODULE is reserved: djops sets it from the settings "
        "module (app_settings); choose another name for it"
    ]


def test_the_env_rules_know_the_default_names_the_model_has():
    # EnvNames takes its defaults from this table; a field given a default of its own would
    # leave the env rules checking env against a name djops no longer sets.
    assert EnvNames().model_dump() == _DEFAULT_ENV_NAMES
