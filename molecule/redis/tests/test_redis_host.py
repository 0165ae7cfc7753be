"""The Redis host's state after djops.django.redis (converge.yml: apps notes and blog).

One test per claim about what runs, as whom, with which settings and files. What each app can
and cannot do with its Redis, and who reaches which port, are tried in verify.yml.
"""

from __future__ import annotations

import json
import re

import pytest

testinfra_hosts = ["data-rdb"]

SECRETS = "/etc/djops/secrets"


def config_get(host, app: str, setting: str) -> str:
    """A setting in force in an app's instance, asked as the role's admin over its socket.

    The password goes from its file to redis-cli through the environment: never on a command line.
    """
    out = host.check_output(
        "REDISCLI_AUTH=$(cat %s) redis-cli --no-auth-warning --user djops-admin -s %s"
        " CONFIG GET %s",
        f"{SECRETS}/_redis/admin_password",
        f"/run/djops-redis-{app}/redis.sock",
        setting,
    )
    lines = out.splitlines()
    assert lines[0] == setting, out
    return lines[1] if len(lines) > 1 else ""


def test_the_credentials_directory_and_files_are_root_only(host):
    directory = host.file(f"{SECRETS}/notes")
    assert (directory.user, directory.mode) == ("root", 0o700)
    for name in ("notes/redis_password", "_redis/admin_password"):
        secret = host.file(f"{SECRETS}/{name}")
        assert (secret.user, secret.mode) == ("root", 0o600)


def test_each_app_has_a_port_of_its_own_in_the_order_of_redis_apps(host):
    assert host.file(f"{SECRETS}/notes/redis_port").content_string.strip() == "6380"
    assert host.file(f"{SECRETS}/blog/redis_port").content_string.strip() == "6381"


def test_the_record_of_the_apps_names_hosts_and_ports_and_no_password(host):
    record = json.loads(host.file("/var/lib/djops/redis/apps.json").content_string)
    assert record == [
        {"name": "notes", "app_hosts": ["data-rapp"], "port": 6380},
        {"name": "blog", "port": 6381},
    ]


@pytest.mark.parametrize("app", ["notes", "blog"])
def test_each_instance_runs_as_its_own_user(host, app):
    unit = host.service(f"djops-redis@{app}")
    assert unit.is_running
    assert unit.is_enabled
    assert host.check_output(f"systemctl show -P User djops-redis@{app}.service") == f"redis-{app}"


def test_the_distros_shared_redis_is_off(host):
    unit = host.service("redis-server")
    assert not unit.is_running
    assert not unit.is_enabled


@pytest.mark.parametrize(
    ("app", "maxmemory"),
    # notes sets its own limit (32 MiB); blog has the role's (96 MiB).
    [("notes", "33554432"), ("blog", "100663296")],
)
def test_each_instance_has_its_memory_limit_and_evicts_least_recently_used(host, app, maxmemory):
    assert config_get(host, app, "maxmemory") == maxmemory
    assert config_get(host, app, "maxmemory-policy") == "allkeys-lru"


@pytest.mark.parametrize("app", ["notes", "blog"])
def test_each_instance_keeps_nothing_on_disk_and_is_protected(host, app):
    assert config_get(host, app, "save") == ""
    assert config_get(host, app, "appendonly") == "no"
    assert config_get(host, app, "protected-mode") == "yes"


def test_only_the_instance_with_an_app_host_elsewhere_listens_on_the_private_address(host):
    address = host.ansible.get_variables()["ansible_host"]
    assert config_get(host, "notes", "bind").split() == ["127.0.0.1", "-::1", address]
    assert config_get(host, "blog", "bind").split() == ["127.0.0.1", "-::1"]
    assert host.socket(f"tcp://{address}:6380").is_listening
    assert not host.socket(f"tcp://{address}:6381").is_listening


@pytest.mark.parametrize(
    "directory", ["/var/lib/djops-redis/notes", "/etc/djops/redis/notes", "/run/djops-redis-notes"]
)
def test_another_apps_redis_user_cannot_look_into_an_instances_directories(host, directory):
    peek = host.run("setpriv --reuid=redis-blog --regid=redis-blog --clear-groups ls %s", directory)
    assert peek.rc != 0
    assert "Permission denied" in peek.stderr


def test_the_service_is_sandboxed(host):
    out = host.check_output("systemd-analyze security --no-pager djops-redis@notes.service")
    score = re.search(r"Overall exposure level for [^:]+: ([0-9.]+)", out)
    assert score, out[-500:]
    assert float(score[1]) <= 1.5


def test_the_port_filter_is_loaded_and_loads_at_boot(host):
    assert host.service("djops-redis-firewall").is_enabled
    assert "table inet djops_redis" in host.check_output("nft list tables")
