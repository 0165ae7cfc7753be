"""The collection's action djops.django.apt_present.

Its helpers are imported by path (the plugin belongs to the collection, not to the CLI's
package); the action itself runs through ansible-playbook against this machine, which must be
Debian-like (dpkg and apt), as djops' controllers and test hosts are.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleActionFail

COLLECTION = Path(__file__).resolve().parents[4]
COLLECTIONS_PATH = COLLECTION / ".ansible" / "collections"


def _load_plugin():
    path = COLLECTION / "plugins" / "action" / "apt_present.py"
    spec = importlib.util.spec_from_file_location("apt_present", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plugin = _load_plugin()


def test_package_names_accepts_lists_and_comma_separated_strings():
    assert plugin.package_names(["nginx", " logrotate "]) == ["nginx", "logrotate"]
    assert plugin.package_names("nginx, logrotate,") == ["nginx", "logrotate"]
    with pytest.raises(AnsibleActionFail, match="got dict"):
        plugin.package_names({"nginx": True})


def test_dpkg_query_command_quotes_each_name():
    command = plugin.dpkg_query_command(["nginx", "a b"])
    assert command.endswith("-- nginx 'a b'")


def test_missing_packages_reads_dpkg_status_with_and_without_architecture():
    stdout = "installed nginx\ninstalled libc6:amd64\nconfig-files redis-server\n"
    names = ["nginx", "libc6", "redis-server", "postgresql"]
    assert plugin.missing_packages(names, 1, stdout) == ["redis-server", "postgresql"]
    assert plugin.missing_packages(["nginx", "libc6"], 0, stdout) == []


def test_missing_packages_leaves_what_is_not_a_plain_name_to_apt():
    assert plugin.missing_packages(["nginx=1.22*"], 0, "installed nginx\n") is None
    assert plugin.missing_packages(["./local.deb"], 0, "") is None
    # dpkg-query missing or failing: apt decides.
    assert plugin.missing_packages(["nginx"], 127, "") is None


def _run(tmp_path: Path, args: dict, *, check: bool = False) -> dict:
    """Run the action once on this machine; return its registered result."""
    out = tmp_path / "result.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [
                        {"djops.django.apt_present": args, "register": "result"},
                        {
                            "ansible.builtin.copy": {
                                "content": "{{ result | to_json }}",
                                "dest": str(out),
                            },
                            "check_mode": False,
                        },
                    ],
                }
            ]
        )
    )
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
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


needs_dpkg = pytest.mark.skipif(
    not (shutil.which("dpkg-query") and (COLLECTIONS_PATH / "ansible_collections").is_dir()),
    reason="needs dpkg-query and the collection in .ansible/collections (scripts/bootstrap)",
)


@needs_dpkg
def test_installed_packages_cost_no_apt_run(tmp_path: Path):
    result = _run(tmp_path, {"name": ["dpkg", "coreutils"], "update_cache": True})
    assert result["changed"] is False
    assert result["missing"] == []
    # apt would have updated its cache (update_cache) and said so.
    assert "cache_updated" not in result


@needs_dpkg
def test_a_missing_package_goes_to_apt(tmp_path: Path):
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}", "sl"],
        capture_output=True,
        text=True,
        check=False,
    )
    policy = subprocess.run(
        ["apt-cache", "policy", "sl"], capture_output=True, text=True, check=False
    )
    if status.stdout == "installed" or "Candidate:" not in policy.stdout:
        pytest.skip("needs the package sl not installed but available to apt")
    result = _run(tmp_path, {"name": ["dpkg", "sl"]}, check=True)
    assert result["missing"] == ["sl"]
    assert result["changed"] is True
    assert "cache_updated" in result
