"""What djops-<app>-manage hands systemd: the caller's variables, filtered, in a private file.

The role's template is rendered with ansible-playbook on this machine and run with a stand-in
systemd-run that records its arguments and the caller's environment file. The molecule app
scenario runs the real helper under systemd (createsuperuser --noinput with a password).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_local import ansible_env

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "appserver"
COLLECTIONS = REPO / ".ansible" / "collections"
pytestmark = pytest.mark.skipif(
    shutil.which("ansible-playbook") is None or os.geteuid() != 0 or not Path("/run").is_dir(),
    reason="needs root (the helper writes to /run) and ansible-playbook (scripts/bootstrap)",
)

FAKE_SYSTEMD_RUN = """#!/bin/bash
# Record the arguments, and the first environment file (the caller's) while it exists.
printf '%s\\n' "$@" > "$RECORD/argv"
for arg; do
    case $arg in EnvironmentFile=/run/*) cp "${arg#EnvironmentFile=}" "$RECORD/caller_env" ;; esac
done
"""

PASSWORD = "pa ss\"wo'rd$HOME\\n`id`"


@pytest.fixture
def helper(tmp_path: Path) -> Path:
    (tmp_path / "render.yml").write_text(
        "- hosts: all\n  gather_facts: false\n"
        f"  vars_files: [{ROLE}/defaults/main.yml, {ROLE}/vars/main.yml]\n"
        "  tasks:\n    - ansible.builtin.template:\n"
        f"        src: {ROLE}/templates/manage.sh.j2\n"
        f"        dest: {tmp_path}/manage\n"
        '        mode: "0755"\n'
    )
    variables = {
        "appserver_app": "notes",
        "appserver_root": str(tmp_path / "srv"),
        "appserver_env": {"NOTES_MODE": "app"},
    }
    env = ansible_env(tmp_path)
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            json.dumps(variables),
            str(tmp_path / "render.yml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    python = tmp_path / "srv" / "notes" / "releases" / "r1" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch(mode=0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemd-run").write_text(FAKE_SYSTEMD_RUN)
    (bin_dir / "systemd-run").chmod(0o755)
    return tmp_path / "manage"


def test_the_callers_variables_reach_manage_py_and_the_apps_own_stay(helper, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    caller = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "RECORD": str(record),
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "NOTES_GREETING": "hello",
        "HOME": "/root",
        "LD_PRELOAD": "/tmp/x.so",
        "PYTHONPATH": "/tmp/x",
        "APP_RELEASE": "r-injected",
        "STATIC_ROOT": "/tmp/x",
        "NOTES_MODE": "injected",
        "SUDO_USER": "alice",
    }
    result = subprocess.run(
        ["bash", str(helper), "--release", "r1", "createsuperuser", "--noinput"],
        env=caller,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    argv = (record / "argv").read_text().splitlines()
    caller_env = (record / "caller_env").read_text()
    # systemd's env file syntax: the value in double quotes, \ " $ and ` escaped.
    escaped = "".join("\\" + c if c in '\\"$`' else c for c in PASSWORD)
    assert f'DJANGO_SUPERUSER_PASSWORD="{escaped}"' in caller_env
    assert 'NOTES_GREETING="hello"' in caller_env
    names = {line.split("=", 1)[0] for line in caller_env.splitlines() if "=" in line}
    for name in ("PATH", "HOME", "LD_PRELOAD", "PYTHONPATH", "APP_RELEASE", "STATIC_ROOT"):
        assert name not in names
    assert "NOTES_MODE" not in names and "SUDO_USER" not in names
    # The caller's file comes first, so the app's env file wins; no value is on the command line.
    files = [a for a in argv if a.startswith("EnvironmentFile=")]
    assert files[0].startswith("EnvironmentFile=/run/djops-notes-manage-env.")
    assert files[1:] == [
        "EnvironmentFile=/etc/djops/notes/appserver.env",
        f"EnvironmentFile={tmp_path}/srv/notes/shared/env",
    ]
    assert not any("pa ss" in a or "hello" in a for a in argv)
    assert argv[-4:] == [
        f"{tmp_path}/srv/notes/releases/r1/.venv/bin/python",
        "manage.py",
        "createsuperuser",
        "--noinput",
    ]
    assert not Path(files[0].removeprefix("EnvironmentFile=")).exists()
