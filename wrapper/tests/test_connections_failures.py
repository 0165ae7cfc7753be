"""playbooks/tasks/connections.yml says in words why it cannot wire the app to a service.

Its reads of the credentials are no_log; when one fails (the service was never set up for the
app on its host), Ansible alone shows only that the task failed. Runs the task file with
ansible-playbook against this machine (connection local), where no credentials exist.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    shutil.which("ansible-playbook") is None, reason="needs ansible-playbook"
)
APP = "djopsnosuchapp"


def run_connections(tmp_path: Path, variables: dict) -> subprocess.CompletedProcess:
    playbook = tmp_path / "connections.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.include_tasks: {REPO / 'playbooks' / 'tasks' / 'connections.yml'}\n"
    )
    (tmp_path / "vars.json").write_text(json.dumps({"app_name": APP, **variables}))
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: /usr/bin/python3\n"
        "  children:\n    db:\n      hosts:\n        localhost:\n"
        "    cache:\n      hosts:\n        localhost:\n"
    )
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    return subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{tmp_path / 'vars.json'}",
         str(playbook)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip


def test_missing_cache_credentials_are_named_in_words(tmp_path: Path):
    result = run_connections(tmp_path, {"redis_apps": [{"name": APP}]})
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert (
        f"the Redis password of {APP} could not be read on localhost "
        f"(/etc/djops/secrets/{APP}/redis_password is missing or unreadable): set up Redis for "
        f"the app first (site.yml with redis_apps naming {APP} on the cache host), or give "
        "app_redis_url"
    ) in out, out


def test_missing_database_credentials_are_named_in_words(tmp_path: Path):
    result = run_connections(tmp_path, {"postgres_apps": [{"name": APP}]})
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert f"the database credentials of {APP} could not be read on localhost" in out, out
    assert "or give app_database_url" in out, out
