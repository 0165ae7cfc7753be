"""Unit tests of the collection's plugins.

The plugins import each other as ``ansible_collections.djops.django.…``; scripts/bootstrap links
the checkout as that collection under .ansible/collections, which goes on the import path here.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[2] / ".ansible" / "collections"
if not (COLLECTIONS / "ansible_collections" / "djops" / "django").exists():
    raise SystemExit(f"{COLLECTIONS} does not hold djops.django: run scripts/bootstrap first")
sys.path.insert(0, str(COLLECTIONS))


@pytest.fixture
def run_task(tmp_path):
    """Run one task on this machine with ansible-playbook; return its registered result.

    Plugins that talk to Ansible (an action, a module, a lookup) are run once this way as well as
    called directly: ``run_task({"djops.django.NAME": {...}}, check=True)``.
    """

    def run(task: dict, *, check: bool = False) -> dict:
        out = tmp_path / "result.json"
        playbook = tmp_path / "play.yml"
        save = {"content": "{{ result | to_json }}", "dest": str(out)}
        play = {
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "tasks": [
                {**task, "register": "result"},
                {"ansible.builtin.copy": save, "check_mode": False},
            ],
        }
        playbook.write_text(json.dumps([play]))
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_LOCALHOST_WARNING="False",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        command = [str(Path(sys.executable).with_name("ansible-playbook")), str(playbook)]
        done = subprocess.run(
            [*command, *(["--check"] if check else [])],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(out.read_text())

    return run
