"""The shared host's state after two projects set it up (converge.yml: notes and board, each
with site.yml and deploy.yml), before verify.yml tries what each app can reach.

One test per claim, for each app: its release, its Redis and its files are its own.
"""

from __future__ import annotations

import pytest

testinfra_hosts = ["mapp-stack"]
APPS = ["notes", "board"]


@pytest.mark.parametrize("app", APPS)
def test_each_apps_served_release_runs(host, app):
    release = host.check_output(f'basename "$(readlink /srv/{app}/current)"')
    assert host.service(f"djops-{app}@{release}.service").is_running


@pytest.mark.parametrize("app", APPS)
def test_each_app_has_a_redis_of_its_own_run_as_its_own_user(host, app):
    assert host.service(f"djops-redis@{app}").is_running
    user = host.check_output(f"systemctl show -P User djops-redis@{app}.service")
    assert user == f"redis-{app}"


@pytest.mark.parametrize("app", APPS)
def test_each_apps_env_file_is_readable_by_that_app_only(host, app):
    env = host.file(f"/srv/{app}/shared/env")
    assert (env.user, env.group, env.mode) == ("root", app, 0o640)


@pytest.mark.parametrize("app", APPS)
def test_each_apps_secrets_are_root_only(host, app):
    secrets = host.file(f"/etc/djops/secrets/{app}")
    assert (secrets.user, secrets.mode) == ("root", 0o700)


@pytest.mark.parametrize("app", APPS)
def test_each_apps_code_belongs_to_root_and_that_apps_group(host, app):
    manage = host.file(f"/srv/{app}/current/manage.py")
    assert (manage.user, manage.group) == ("root", app)
    assert manage.mode & 0o027 == 0  # no writing for the group, nothing for others


@pytest.mark.parametrize("app", APPS)
def test_each_app_has_a_database_of_its_own(host, app):
    with host.sudo("postgres"):
        out = host.check_output(
            "psql -AtX -d postgres -c %s",
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database",
        )
    owners = dict(line.split("|", 1) for line in out.splitlines())
    assert owners[app] == f"{app}_owner"
