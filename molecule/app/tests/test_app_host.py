"""The app host's state after converge (djops.django.appserver + djops.django.app, nginx, one
release deployed), before verify.yml's deploys change it.

One test per claim about what runs, who owns what and how far the app is sandboxed. What the
site serves, and what deploys, rollbacks and broken releases do to it, is tried in verify.yml.
"""

from __future__ import annotations

import re

import pytest

testinfra_hosts = ["tier-app"]


@pytest.fixture(scope="module")
def served_unit(host) -> str:
    release = host.check_output('basename "$(readlink /srv/notes/current)"')
    return f"djops-notes@{release}.service"


def test_the_served_release_runs(host, served_unit):
    assert host.service(served_unit).is_running


def test_nginx_runs_in_front(host):
    assert host.service("nginx").is_running
    assert host.socket("tcp://0.0.0.0:443").is_listening


def test_the_app_cannot_change_its_code(host):
    write = host.run("runuser -u notes -- touch /srv/notes/current/notes/settings.py")
    assert write.rc != 0
    assert "Permission denied" in write.stderr or "Read-only" in write.stderr


def test_the_code_belongs_to_root_and_is_readable_by_the_app(host):
    settings = host.file("/srv/notes/current/notes/settings.py")
    assert settings.user == "root"
    assert settings.group == "notes"
    assert settings.mode & 0o027 == 0  # no writing for the group, nothing for others


def test_the_env_file_is_root_owned_and_readable_by_the_app_only(host):
    env = host.file("/srv/notes/shared/env")
    assert (env.user, env.group, env.mode) == ("root", "notes", 0o640)


def test_the_apps_secrets_are_root_only(host):
    secrets = host.file("/etc/djops/secrets/notes")
    assert (secrets.user, secrets.mode) == ("root", 0o700)


def test_the_app_unit_is_sandboxed(host, served_unit):
    out = host.check_output(f"systemd-analyze security --no-pager {served_unit}")
    score = re.search(r"level for \S+:\s*([0-9.]+)", out)
    assert score, out[-500:]
    assert float(score[1]) <= 2.5
