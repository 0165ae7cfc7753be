"""The roles' own validation refuses dangerous variables before anything on a host changes.

Each case runs one role's tasks/validate.yml with ansible-playbook against this machine
(connection local, check mode): no sandbox host, a few seconds a case. A case passes when the
run fails and Ansible's output names the problem.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible_local import ansible_env

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".ansible" / "collections"
pytestmark = pytest.mark.skipif(
    shutil.which("ansible-playbook") is None
    or not (COLLECTIONS / "ansible_collections" / "djops" / "django").exists(),
    reason="needs ansible-playbook and the checkout linked as djops.django (scripts/bootstrap)",
)

NGINX_SITE = {
    "name": "notes",
    "domains": ["notes.example.com"],
    "socket": "/run/djops-notes.sock",
    "static_root": "/srv/notes/current/static",
    "media_root": "/srv/notes/shared/media",
}


def run_validate(tmp_path: Path, role: str, variables: dict) -> subprocess.CompletedProcess:
    playbook = tmp_path / "validate.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.include_role:\n        name: djops.django.{role}\n"
        "        tasks_from: validate\n"
    )
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = ansible_env(tmp_path)
    return subprocess.run(
        [
            "ansible-playbook",
            "--check",
            "-i",
            "localhost,",
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
            "-c",
            "local",
            "-e",
            f"@{tmp_path / 'vars.json'}",
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )


def run_validate_many(
    tmp_path: Path, cases: dict[str, tuple[list[str], dict]]
) -> tuple[dict[str, dict[str, int]], str]:
    """Run several roles' validate.yml for many cases in one ansible-playbook run.

    `cases` maps a case name to the roles to validate and their variables: each case is an
    inventory host of its own (connection local, check mode), with the variables as host
    variables. Returns PLAY RECAP's counts per case (a case passed when failed is 0) and
    Ansible's output.
    """
    roles = sorted({role for role_list, _ in cases.values() for role in role_list})
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "/usr/bin/python3",
            },
            "hosts": {name: variables for name, (_, variables) in cases.items()},
            "children": {
                f"validate_{role}": {
                    "hosts": {
                        name: {} for name, (role_list, _) in cases.items() if role in role_list
                    }
                }
                for role in roles
            },
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    plays = []
    for role in roles:
        plays.append(
            f"- hosts: validate_{role}\n  gather_facts: {'true' if role == 'base' else 'false'}\n"
            "  tasks:\n"
            f"    - ansible.builtin.include_role:\n        name: djops.django.{role}\n"
            "        tasks_from: validate\n"
        )
    playbook = tmp_path / "validate.yml"
    playbook.write_text("".join(plays))
    env = ansible_env(tmp_path, ANSIBLE_FORKS="20", ANSIBLE_GATHER_SUBSET="min")
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", str(tmp_path / "inventory.json"), str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    recap = {}
    for line in result.stdout.split("PLAY RECAP")[-1].splitlines():
        found = re.fullmatch(r"(\S+)\s+: (ok=.*)", line.strip())
        if found:
            counts = re.findall(r"(\w+)=(\d+)", found.group(2))
            recap[found.group(1)] = {key: int(value) for key, value in counts}
    return recap, result.stdout + result.stderr


def test_nginx_accepts_the_default_site(tmp_path: Path):
    result = run_validate(tmp_path, "nginx", {"nginx_sites": [NGINX_SITE]})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("static_url", "/static"),  # /static../settings.py would be served from the release
        ("media_url", "/media"),
        ("static_url", "static/"),
        ("static_url", "/st;atic/"),
        ("media_url", "/static/"),  # the same prefix twice
        ("media_url", "/static/uploads/"),  # one inside the other
        ("static_url", "/media/static/"),
        ("client_max_body_size", "10m; return 200"),  # a directive of its own in the site
        ("client_max_body_size", "10MB"),
    ],
)
def test_nginx_refuses_url_prefixes_alias_cannot_serve_safely(tmp_path: Path, field, value):
    site = {**NGINX_SITE, field: value}
    result = run_validate(tmp_path, "nginx", {"nginx_sites": [site]})
    assert result.returncode != 0
    assert "static_url and media_url as two URL paths, neither inside the other" in result.stdout
    assert json.dumps(value) in result.stdout


APPSERVER = {"appserver_app": "notes", "appserver_wsgi": "notes.wsgi:application"}


@pytest.fixture
def foreign_account():
    """A unix user on this machine that djops did not make, like an admin's or a service's."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root to add a throwaway user")
    name = "djopsforeign"
    subprocess.run(["userdel", name], capture_output=True, check=False)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/bash", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True, check=False)


def test_appserver_accepts_a_new_app_name(tmp_path: Path):
    result = run_validate(tmp_path, "appserver", APPSERVER)
    assert result.returncode == 0, result.stdout + result.stderr


def test_appserver_refuses_an_account_djops_did_not_make(tmp_path: Path, foreign_account):
    result = run_validate(tmp_path, "appserver", {**APPSERVER, "appserver_app": foreign_account})
    assert result.returncode != 0
    assert f"a unix user '{foreign_account}' exists" in result.stdout
    assert "choose another app name" in result.stdout


def test_appserver_refuses_the_login_user(tmp_path: Path):
    result = run_validate(tmp_path, "appserver", {**APPSERVER, "ansible_user": "notes"})
    assert result.returncode != 0
    assert "it is the user Ansible logs in as" in result.stdout


@pytest.mark.parametrize("app", ["pg", "pg_notes"])
def test_postgres_refuses_an_app_whose_roles_postgresql_keeps(tmp_path: Path, app):
    # The app's roles are <app>_owner, <app>_a and <app>_b: PostgreSQL refuses pg_* role names.
    result = run_validate(tmp_path, "postgres", {"postgres_apps": [{"name": app, "app_hosts": []}]})
    assert result.returncode != 0
    assert f"postgres_apps: '{app}' makes roles starting with pg_" in result.stdout


def test_postgres_accepts_a_name_that_only_starts_with_pg(tmp_path: Path):
    result = run_validate(
        tmp_path, "postgres", {"postgres_apps": [{"name": "pgnotes", "app_hosts": []}]}
    )
    assert result.returncode == 0, result.stdout + result.stderr


APP = {"app_name": "notes", "app_settings": "notes.settings", "app_domains": ["notes.example.com"]}
# app_env_names as a sysadmin writes it: every name (Ansible does not merge it with the default).
APP_ENV_NAMES = {
    "secret_key": "SECRET_KEY",
    "secret_key_fallbacks": "SECRET_KEY_FALLBACKS",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "allowed_hosts": "ALLOWED_HOSTS",
    "csrf_trusted_origins": "CSRF_TRUSTED_ORIGINS",
    "release": "APP_RELEASE",
}
# Names that would break or take over the app's processes, or that djops sets itself.
DANGEROUS_ENV_NAMES = [
    "PATH",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "HOME",
    "USER",
    "SHELL",
    "IFS",
    "STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "GUNICORN_CMD_ARGS",
]


def test_app_accepts_ordinary_env(tmp_path: Path):
    env = {"DJANGO_DATA_DIR": "/srv/notes/shared/data", "PYTHONUNBUFFERED": "1", "Q": "a`b`$(c)%h"}
    result = run_validate(tmp_path, "app", {**APP, "app_env": env})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DANGEROUS_ENV_NAMES)
def test_app_refuses_reserved_env_names(tmp_path: Path, name: str):
    result = run_validate(tmp_path, "app", {**APP, "app_env": {name: "x"}})
    assert result.returncode != 0
    assert f"app_env.{name}: {name} is reserved" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["APP_RELEASE", "MEDIA_ROOT"])
def test_app_refuses_a_name_djops_sets(tmp_path: Path, name: str):
    result = run_validate(tmp_path, "app", {**APP, "app_env": {name: "x"}})
    assert result.returncode != 0
    assert f"app_env.{name}: djops sets {name} itself" in result.stdout, result.stdout


def test_the_media_directory_takes_the_name_the_settings_read(tmp_path: Path):
    # Renamed, MEDIA_ROOT is the app's own again, and the new name is djops'.
    names = {**APP_ENV_NAMES, "media_root": "DJANGO_MEDIA_ROOT"}
    ours = run_validate(
        tmp_path, "app", {**APP, "app_env_names": names, "app_env": {"MEDIA_ROOT": "x"}}
    )
    assert ours.returncode == 0, ours.stdout + ours.stderr
    taken = run_validate(
        tmp_path, "app", {**APP, "app_env_names": names, "app_env": {"DJANGO_MEDIA_ROOT": "x"}}
    )
    assert "app_env.DJANGO_MEDIA_ROOT: djops sets DJANGO_MEDIA_ROOT itself" in taken.stdout


def test_app_refuses_secret_key_named_like_the_settings_module(tmp_path: Path):
    names = {**APP_ENV_NAMES, "secret_key": "DJANGO_SETTINGS_MODULE"}
    result = run_validate(tmp_path, "app", {**APP, "app_env_names": names})
    assert result.returncode != 0
    assert "app_env_names.secret_key: DJANGO_SETTINGS_MODULE is reserved" in result.stdout


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("one\nExecStartPre=/bin/true", "holds a line break"),
        ("one\rtwo", "holds a line break"),
        ("one\0two", "NUL byte"),
        ("x" * 131072, "the kernel passes at most 131071 bytes a variable"),
    ],
)
def test_app_and_appserver_refuse_values_no_env_can_carry(tmp_path: Path, value, problem):
    for role, variables in (
        ("app", {**APP, "app_env": {"NOTE": value}}),
        ("appserver", {**APPSERVER, "appserver_env": {"NOTE": value}}),
    ):
        result = run_validate(tmp_path, role, variables)
        assert result.returncode != 0, role
        assert problem in result.stdout, result.stdout
        # The value itself is never echoed (it may be a secret).
        assert value[:40] not in result.stdout.replace("\\n", "\n")


def test_app_refuses_env_that_is_too_large_together(tmp_path: Path):
    env = {f"NOTE_{i}": "x" * 100_000 for i in range(11)}
    result = run_validate(tmp_path, "app", {**APP, "app_env": env})
    assert result.returncode != 0
    assert "app_env: the variables take" in result.stdout, result.stdout


@pytest.mark.parametrize("name", DANGEROUS_ENV_NAMES)
def test_appserver_refuses_reserved_env_names(tmp_path: Path, name: str):
    result = run_validate(tmp_path, "appserver", {**APPSERVER, "appserver_env": {name: "x"}})
    assert result.returncode != 0
    assert f"appserver_env.{name}: {name} is reserved" in result.stdout, result.stdout


def test_appserver_refuses_an_env_name_that_would_inject_a_unit_line(tmp_path: Path):
    name = 'A=1"\nExecStartPre=/bin/touch /tmp/x #'
    result = run_validate(tmp_path, "appserver", {**APPSERVER, "appserver_env": {name: "x"}})
    assert result.returncode != 0
    assert "is not a valid variable name" in result.stdout, result.stdout
