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
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
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
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_FORKS": "20",
        "ANSIBLE_GATHER_SUBSET": "min",
    }
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
    ],
)
def test_nginx_refuses_url_prefixes_alias_cannot_serve_safely(tmp_path: Path, field, value):
    site = {**NGINX_SITE, field: value}
    result = run_validate(tmp_path, "nginx", {"nginx_sites": [site]})
    assert result.returncode != 0
    assert "static_url and media_url as two different URL paths" in result.stdout
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
