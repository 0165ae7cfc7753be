"""App names that belong to the system, to PostgreSQL/Redis or to djops are refused.

The roles refuse them (roles/appserver, roles/postgres, roles/redis); the CLI must refuse every one
of them too, so that `djops config check` says so before a run fails on the server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from djops.config import _APP_RE, _RESERVED_APP_NAMES, parse_config
from djops.errors import ConfigError

ROLES = Path(__file__).resolve().parents[2] / "roles"
REFERENCE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def role_vars(role: str) -> dict:
    return yaml.safe_load((ROLES / role / "vars" / "main.yml").read_text())


def resolve(value: str, variables: dict) -> str:
    """A name, or the value of the role's variable it names (``{{ __redis_admin_user }}``)."""
    match = REFERENCE.fullmatch(value)
    return variables[match.group(1)] if match else value


def names_the_roles_refuse() -> dict[str, list[str]]:
    appserver = role_vars("appserver")["__appserver_reserved_names"]
    postgres = role_vars("postgres")["__postgres_reserved_app_names"]
    redis_vars = role_vars("redis")
    redis = [resolve(name, redis_vars) for name in redis_vars["__redis_reserved_app_names"]]
    return {
        "appserver": [name for names in appserver.values() for name in names],
        "postgres": postgres,
        "redis": redis,
    }


@pytest.mark.parametrize("role", ["appserver", "postgres", "redis"])
def test_the_cli_refuses_every_name_a_role_refuses(role):
    names = names_the_roles_refuse()[role]
    assert names, f"roles/{role}/vars/main.yml lists no reserved names"
    assert sorted(set(names) - _RESERVED_APP_NAMES) == []


def test_the_roles_refuse_the_names_that_matter():
    names = names_the_roles_refuse()
    # A unix user or group the app would take over, or /etc/djops/<app> that is djops' own.
    assert {"www-data", "postgres", "redis", "root", "sudo", "shadow", "disk"} <= set(
        names["appserver"]
    )
    assert {"secrets", "tls", "nftables", "backup.d", "restore.d"} <= set(names["appserver"])
    assert {"postgres", "template0", "template1"} <= set(names["postgres"])
    # Redis's default user, and the one the role reloads the ACLs with.
    assert set(names["redis"]) == {"default", "djops-admin"}


def test_every_directory_djops_keeps_in_etc_djops_is_reserved():
    text = "\n".join(
        path.read_text()
        for path in ROLES.rglob("*")
        if path.is_file() and path.suffix in {".yml", ".j2", ".sh", ".py"}
    )
    # /etc/djops/<app> is each app's: every other directory in /etc/djops is djops' own.
    found = set(re.findall(r"/etc/djops/([A-Za-z0-9_.-]+)", text))
    assert found, "no /etc/djops paths found in the roles"
    assert sorted(found - set(names_the_roles_refuse()["appserver"])) == []


def config_text(app: str) -> str:
    return (
        f"app: {app}\nsettings: notes.settings\nwsgi: notes.wsgi:application\n"
        "environments:\n  production:\n    hosts: [deploy@web1.example.com]\n"
        "    domains: [www.example.com]\n    acme_email: ops@example.com\n"
    )


def app_problem(app: str) -> str:
    """What `djops config check` says of a config that differs from a good one only in its app."""
    with pytest.raises(ConfigError) as exc_info:
        parse_config(config_text(app), "deploy/djops.yml")
    problems = exc_info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith("app: ")
    return problems[0].removeprefix("app: ")


@pytest.mark.parametrize("app", ["secrets", "tls", "nftables"])
def test_a_directory_of_etc_djops_is_refused(app):
    assert app_problem(app) == (
        f"{app!r} is the name of djops' own directory /etc/djops/{app}; choose another"
    )


@pytest.mark.parametrize("app", ["default", "sudo", "shadow", "disk", "docker"])
def test_names_of_the_system_and_of_redis_are_refused(app):
    assert app_problem(app) == (
        f"{app!r} already belongs to the system or to PostgreSQL/Redis; choose another"
    )


@pytest.mark.parametrize("app", ["www-data", "backup.d", "restore.d"])
def test_reserved_names_that_are_not_app_names_are_refused_as_such(app):
    assert not _APP_RE.fullmatch(app)
    assert app_problem(app).startswith(f"{app!r} is not a valid app name")


@pytest.mark.parametrize("app", ["pg_notes", "pg"])
def test_a_name_postgresql_keeps_for_its_roles_is_refused(app):
    # "pg" is refused too: its roles would be pg_owner, pg_a and pg_b.
    assert app_problem(app) == (
        f"'{app}' makes PostgreSQL roles ({app}_owner, …) starting with pg_, which PostgreSQL "
        "keeps for its own; choose another"
    )


@pytest.mark.parametrize("app", ["notes", "pgnotes", "secret", "defaults", "my_app"])
def test_ordinary_names_pass(app):
    assert parse_config(config_text(app), "deploy/djops.yml").app == app
