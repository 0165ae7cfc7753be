"""The collection's action djops.django.apt_present.

Its helpers are imported by path (the plugin belongs to the collection, not to the CLI's
package); the action itself runs through ansible-playbook against this machine, which must be
Debian-like (dpkg and apt), as djops' controllers and test hosts are.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
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


needs_dpkg = pytest.mark.skipif(
    not (shutil.which("dpkg-query") and (COLLECTIONS_PATH / "ansible_collections").is_dir()),
    reason="needs dpkg-query and the collection in .ansible/collections (scripts/bootstrap)",
)


@needs_dpkg
def test_installed_packages_cost_no_apt_run(run_task):
    task = {"name": ["dpkg", "coreutils"], "update_cache": True}
    result = run_task({"djops.django.apt_present": task})
    assert result["changed"] is False
    assert result["missing"] == []
    # apt would have updated its cache (update_cache) and said so.
    assert "cache_updated" not in result


@needs_dpkg
def test_a_missing_package_goes_to_apt(run_task):
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
    result = run_task({"djops.django.apt_present": {"name": ["dpkg", "sl"]}}, check=True)
    assert result["missing"] == ["sl"]
    assert result["changed"] is True
    assert "cache_updated" in result
