"""playbooks/tasks/connections.yml wires an app only to the services its project uses.

Each case runs the task file with ansible-playbook against this machine (connection local), with
the inventory groups `djops provision` makes for the project's services: a project without
PostgreSQL or Redis has no db or cache host at all. The credentials are read from
/etc/djops/secrets/<app>/, as the postgres and redis roles leave them; the test writes them for a
throwaway app name and removes them again, so it needs root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from ansible_local import ansible_env

from djops.config import ALL_ROLES
from djops.plan import SERVICE_OF_GROUP

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".ansible" / "collections"
pytestmark = pytest.mark.skipif(
    shutil.which("ansible-playbook") is None or os.geteuid() != 0,
    reason="needs ansible-playbook and root (it writes /etc/djops/secrets/<app>/)",
)

# Only names, booleans and the cache's port leave the run: never a credential.
PLAYBOOK = """\
- hosts: app
  gather_facts: false
  tasks:
    - name: Connect the app
      ansible.builtin.include_tasks: {connections}
    - name: Say which URLs were set
      ansible.builtin.copy:
        content: "{{{{ {{'database': app_database_url | default('') | length > 0,
                       'cache': app_redis_url | default('') | length > 0,
                       'cache_port': (app_redis_url | default('') | urlsplit('port'))
                                     if app_redis_url | default('') else None}} | to_json }}}}"
        dest: {result}
        mode: "0600"
"""


@pytest.fixture
def app_secrets():
    app = f"conn{uuid.uuid4().hex[:8]}"
    directory = Path("/etc/djops/secrets") / app
    directory.mkdir(parents=True, mode=0o700)
    for name, value in {
        "postgres_user": app,
        "postgres_password": "pg-" + uuid.uuid4().hex,
        "redis_password": "rd-" + uuid.uuid4().hex,
    }.items():
        (directory / name).write_text(value + "\n")
    yield app
    shutil.rmtree(directory)


def connect(tmp_path: Path, app: str, services: list[str]) -> dict[str, bool]:
    host = {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}
    # As djops provision makes them: the host is in db or cache only for a service in use, and
    # the service's host keeps the app only then (postgres_apps / redis_apps).
    if "postgres" in services:
        host["postgres_apps"] = [{"name": app}]
    if "redis" in services:
        host["redis_apps"] = [{"name": app}]
    children = {
        group: {"hosts": {"h1": {}} if SERVICE_OF_GROUP.get(group, "") in ("", *services) else {}}
        for group in ALL_ROLES
    }
    inventory = {"all": {"hosts": {"h1": host}, "children": children, "vars": {"app_name": app}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    result = tmp_path / "result.json"
    (tmp_path / "playbook.yml").write_text(
        PLAYBOOK.format(connections=REPO / "playbooks" / "tasks" / "connections.yml", result=result)
    )
    env = ansible_env(tmp_path)
    run = subprocess.run(
        ["ansible-playbook", "-i", "inventory.json", "playbook.yml"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(result.read_text())


@pytest.mark.parametrize(
    "services",
    [[], ["postgres"], ["redis"], ["postgres", "redis"]],
    ids=["none", "postgres", "redis", "both"],
)
def test_an_app_is_wired_to_the_services_it_uses_only(tmp_path: Path, app_secrets: str, services):
    wired = connect(tmp_path, app_secrets, services)
    assert {key: wired[key] for key in ("database", "cache")} == {
        "database": "postgres" in services,
        "cache": "redis" in services,
    }


def test_the_cache_url_names_the_port_of_the_apps_own_redis(tmp_path: Path, app_secrets: str):
    (Path("/etc/djops/secrets") / app_secrets / "redis_port").write_text("6383\n")
    assert connect(tmp_path, app_secrets, ["redis"])["cache_port"] == 6383


def test_a_cache_host_not_yet_moved_to_a_redis_per_app_keeps_the_shared_port(
    tmp_path: Path, app_secrets: str
):
    # Set up by an earlier version (no redis_port): its one shared Redis listens on 6379.
    assert connect(tmp_path, app_secrets, ["redis"])["cache_port"] == 6379
