"""djops.django's module_utils.dpkg: one dpkg-query, read the same way by every plugin."""

import shutil
import subprocess

import pytest
from ansible_collections.djops.django.plugins.module_utils.dpkg import query_argv, statuses


def test_statuses_reads_each_package_with_and_without_its_architecture():
    stdout = "installed nginx\ninstalled libc6:amd64\nconfig-files redis-server\n\n"
    assert statuses(stdout) == {
        "nginx": "installed",
        "libc6:amd64": "installed",
        "libc6": "installed",
        "redis-server": "config-files",
    }


def test_a_package_installed_for_one_architecture_counts_as_installed():
    stdout = "installed libc6:amd64\nnot-installed libc6:i386\n"
    assert statuses(stdout)["libc6"] == "installed"
    assert statuses("not-installed libc6:i386\ninstalled libc6:amd64\n")["libc6"] == "installed"


def test_query_argv_keeps_names_out_of_options():
    argv = query_argv(["nginx", "-weird"])
    assert argv[:2] == ["dpkg-query", "-W"]
    assert argv[-3:] == ["--", "nginx", "-weird"]


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg-query (Debian-like)")
def test_the_query_runs_against_this_machine():
    done = subprocess.run(
        query_argv(["dpkg", "djops-no-such-package"]), capture_output=True, text=True, check=False
    )
    assert done.returncode == 1  # one name unknown: dpkg-query says so, the rest still counts
    assert statuses(done.stdout)["dpkg"] == "installed"
    assert "djops-no-such-package" not in statuses(done.stdout)
