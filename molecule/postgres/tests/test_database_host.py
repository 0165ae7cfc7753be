"""The database host's state after djops.django.postgres (converge.yml: 1 GiB, apps notes and blog).

One test per claim about what runs, listens and is configured. Who may log in, from where and
how, and backup and restore, are tried in verify.yml.
"""

from __future__ import annotations

import pytest

testinfra_hosts = ["data-pgdb"]


def psql(host, query: str) -> str:
    """One value, as the postgres superuser over the local socket."""
    with host.sudo("postgres"):
        return host.check_output("psql -AtX -d postgres -c %s", query)


def test_postgresql_runs_and_starts_at_boot(host):
    assert host.service("postgresql").is_enabled
    assert psql(host, "SELECT 1") == "1"


def test_postgresql_listens_on_loopback_and_the_private_address(host):
    address = host.ansible.get_variables()["ansible_host"]
    assert host.socket("tcp://127.0.0.1:5432").is_listening
    assert host.socket(f"tcp://{address}:5432").is_listening
    assert psql(host, "SHOW listen_addresses") == f"localhost,{address}"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        # Sized for postgres_memory_mb: 1024.
        ("shared_buffers", "256MB"),
        ("effective_cache_size", "768MB"),
        # 10 reserved + notes (10 per host x 1 app host x 2) + blog (20 x 1 x 2) = 70, rounded up.
        ("max_connections", "100"),
        ("log_min_duration_statement", "500ms"),
        ("password_encryption", "scram-sha-256"),
    ],
)
def test_the_settings_in_force(host, setting, value):
    assert psql(host, f"SHOW {setting}") == value


def test_statements_are_tracked(host):
    assert int(psql(host, "SELECT count(*) FROM pg_stat_statements")) > 0


def test_pg_hba_asks_for_scram_only_and_peer_for_postgres_alone(host):
    weak = psql(
        host,
        "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"
        " OR auth_method NOT IN ('peer', 'scram-sha-256')"
        " OR (auth_method = 'peer' AND user_name <> '{postgres}')",
    )
    assert weak == "0"


def test_the_credentials_directory_and_files_are_root_only(host):
    directory = host.file("/etc/djops/secrets/notes")
    assert (directory.user, directory.mode) == ("root", 0o700)
    for name in ("postgres_user", "postgres_password"):
        secret = host.file(f"/etc/djops/secrets/notes/{name}")
        assert (secret.user, secret.mode) == ("root", 0o600)


def test_the_port_filter_is_loaded_and_loads_at_boot(host):
    assert host.service("djops-postgres-firewall").is_enabled
    assert "table inet djops_postgres" in host.check_output("nft list tables")


def test_the_nightly_backup_is_scheduled(host):
    timer = host.service("djops-postgres-backup.timer")
    assert timer.is_enabled
    assert timer.is_running
    assert "djops-postgres-backup.service" in host.check_output(
        "systemctl list-timers --all djops-postgres-backup.timer"
    )
