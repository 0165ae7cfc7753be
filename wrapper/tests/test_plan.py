"""What djops asks Ansible to do: the exact inventory, variables and playbook."""

from __future__ import annotations

from pathlib import Path

import pytest

from djops import plan, runner
from djops.commands import _playbook
from djops.config import load_config, parse_config
from djops.errors import ConfigError, UsageError
from djops.sandbox import state as sandbox_state
from djops.sandbox.paths import SandboxPaths

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notes"


def target(config, env_name: str, paths: SandboxPaths | None = None) -> plan.Target:
    """The example project's target, as the commands resolve it."""
    return _playbook.target(config, EXAMPLE, env_name, paths)


@pytest.fixture
def sandbox_web1(tmp_path, monkeypatch):
    paths = SandboxPaths(tmp_path)
    sandbox_state.save(
        paths, sandbox_state.HostState(name="web1", distro="ubuntu-26.04", index=7, ready=True)
    )
    paths.ssh_key.with_suffix(".pub").write_text("ssh-ed25519 AAAAC3Nza sandbox\n")
    monkeypatch.setattr(sandbox_state, "is_running", lambda state: True)
    monkeypatch.setenv("DJOPS_SANDBOX_HOME", str(tmp_path))
    return paths


def test_sandbox_environment_becomes_an_inventory_with_every_group(sandbox_web1):
    config = load_config(EXAMPLE / "deploy/djops.yml")
    inv = plan.inventory(target(config, "sandbox", sandbox_web1))
    web1 = inv["all"]["hosts"]["web1"]
    assert web1["ansible_host"] == "198.18.7.2"
    assert web1["ansible_user"] == "admin"
    assert "StrictHostKeyChecking=yes" in web1["ansible_ssh_common_args"]
    assert web1["base_users"] == [
        {"name": "admin", "authorized_keys": ["ssh-ed25519 AAAAC3Nza sandbox"], "sudo": True}
    ]
    assert {g: list(v["hosts"]) for g, v in inv["all"]["children"].items()} == {
        "web": ["web1"],
        "app": ["web1"],
        "db": ["web1"],
        "cache": ["web1"],
    }


@pytest.mark.parametrize(
    ("services", "groups"),
    [
        ("[postgres, redis]", ["web", "app", "db", "cache"]),
        ("[postgres]", ["web", "app", "db"]),
        ("[redis]", ["web", "app", "cache"]),
        ("[]", ["web", "app"]),
    ],
)
def test_a_host_serves_only_the_services_the_project_uses(services, groups):
    # A host with every role is not a cache host for a project without Redis: the redis role
    # would install Redis, and the app would be wired to credentials nobody made.
    text = (
        (EXAMPLE / "deploy/djops.yml")
        .read_text()
        .replace("services: [postgres, redis]", f"services: {services}")
    )
    config = parse_config(text, "deploy/djops.yml")
    inv = plan.inventory(target(config, "production"))
    assert [g for g, v in inv["all"]["children"].items() if v["hosts"]] == groups


def test_remote_hosts_keep_their_user_and_address():
    config = load_config(EXAMPLE / "deploy/djops.yml")
    inv = plan.inventory(target(config, "production"))
    key = config.environment("production").admin_users[0].keys[0]
    assert inv["all"]["hosts"] == {
        "203.0.113.10": {
            "ansible_host": "203.0.113.10",
            "ansible_user": "deploy",
            "base_users": [{"name": "deploy", "authorized_keys": [key], "sudo": True}],
        }
    }


def test_a_sandbox_host_that_is_down_is_a_usage_error(tmp_path):
    config = load_config(EXAMPLE / "deploy/djops.yml")
    with pytest.raises(UsageError, match="djops sandbox up web1"):
        _playbook.target(config, EXAMPLE, "sandbox", SandboxPaths(tmp_path))


def test_provision_runs_site_yml_with_the_roles_variables(sandbox_web1):
    config = load_config(EXAMPLE / "deploy/djops.yml")
    run = _playbook.build_run("site.yml", target(config, "sandbox"))
    assert run.playbook == "site.yml"
    v = run.extravars
    assert v["appserver_app"] == v["app_name"] == "notes"
    assert v["appserver_kind"] == "gunicorn"
    assert v["appserver_wsgi"] == "notes.wsgi:application"
    assert "appserver_asgi" not in v
    assert v["app_settings"] == "notes.settings"
    assert v["app_domains"] == ["notes.test"]
    assert v["app_python"] == ">=3.11"
    assert v["app_healthcheck"] == "/healthz"
    assert v["app_env_names"]["secret_key"] == "SECRET_KEY"
    assert v["postgres_apps"] == [{"name": "notes", "app_hosts": ["web1"]}]
    assert v["redis_apps"] == [{"name": "notes", "app_hosts": ["web1"]}]
    assert v["nginx_sites"] == [
        {
            "name": "notes",
            "domains": ["notes.test"],
            "socket": "/run/djops-notes.sock",
            "static_root": "/srv/notes/current/static",
            "release_path": "/srv/notes/current",
            "media_root": "/srv/notes/shared/media",
            "media_url": "/media/",
            "client_max_body_size": "10m",
            "tls": {"source": "self_signed"},
        }
    ]
    uploads = parse_config(
        (EXAMPLE / "deploy/djops.yml").read_text() + "media_url: /uploads/\nmax_upload_size: 1g\n",
        "deploy/djops.yml",
    )
    [site] = plan.project_vars(target(uploads, "production"))["nginx_sites"]
    assert (site["media_url"], site["client_max_body_size"]) == ("/uploads/", "1g")
    # No secret travels from the laptop: they are made on the server.
    assert not any("password" in k or k.removeprefix("app_") == "secret_key" for k in v)
    inv = plan.inventory(target(config, "sandbox", sandbox_web1))
    assert inv["all"]["children"]["web"]["vars"] == {"base_firewall_web": True}


def test_hooks_go_to_the_app_role_as_app_hooks():
    text = (EXAMPLE / "deploy/djops.yml").read_text() + (
        "hooks:\n"
        "  after_build: [python manage.py compilemessages]\n"
        "  before_switch:\n"
        "    - {command: ./deploy/check.sh}\n"
        "    - {tasks: deploy/hooks/before_switch.yml}\n"
    )
    config = parse_config(text, "deploy/djops.yml")
    assert plan.project_vars(target(config, "production"))["app_hooks"] == {
        "after_build": ["python manage.py compilemessages"],
        "before_switch": ["./deploy/check.sh", {"tasks": "deploy/hooks/before_switch.yml"}],
    }
    example = load_config(EXAMPLE / "deploy/djops.yml")
    assert plan.project_vars(target(example, "production"))["app_hooks"] == {}


def test_processes_go_to_the_appserver_role_and_singletons_to_the_first_app_host():
    text = (EXAMPLE / "deploy/djops.yml").read_text().replace(
        "    hosts: [deploy@203.0.113.10]\n",
        "    hosts:\n"
        "      - deploy@203.0.113.10\n"
        "      - {address: 203.0.113.11, user: deploy, roles: [app]}\n",
    ) + (
        "processes:\n"
        "  worker: {command: celery -A notes worker, instances: 2, stop_timeout: 600}\n"
        "  beat: {command: celery -A notes beat, singleton: true}\n"
    )
    config = parse_config(text, "deploy/djops.yml")
    variables = plan.project_vars(target(config, "production"))
    assert variables["appserver_processes"] == [
        {
            "name": "worker",
            "command": ["celery", "-A", "notes", "worker"],
            "instances": 2,
            "stop_timeout": 600,
            "singleton": False,
        },
        {
            "name": "beat",
            "command": ["celery", "-A", "notes", "beat"],
            "instances": 1,
            "stop_timeout": 30,
            "singleton": True,
        },
    ]
    # A changed process needs provisioning: the deploy names it.
    assert variables["app_provisioned_for"]["processes"] == [
        "beat: celery -A notes beat (instances 1, stop_timeout 30, singleton)",
        "worker: celery -A notes worker (instances 2, stop_timeout 600)",
    ]
    assert variables["appserver_schedule"] == []
    hosts = plan.inventory(target(config, "production"))["all"]["hosts"]
    assert "appserver_singletons" not in hosts["203.0.113.10"]
    assert hosts["203.0.113.11"]["appserver_singletons"] is False


def test_scheduled_jobs_go_to_the_appserver_role():
    text = (EXAMPLE / "deploy/djops.yml").read_text() + (
        "schedule:\n"
        "  clearsessions: {command: python manage.py clearsessions, calendar: daily}\n"
        "  report: {command: [python, manage.py, report], calendar: 'Mon 06:00', timeout: 600}\n"
    )
    variables = plan.project_vars(target(parse_config(text, "deploy/djops.yml"), "production"))
    assert variables["appserver_schedule"] == [
        {
            "name": "clearsessions",
            "command": ["python", "manage.py", "clearsessions"],
            "calendar": "daily",
            "timeout": 3600,
        },
        {
            "name": "report",
            "command": ["python", "manage.py", "report"],
            "calendar": "Mon 06:00",
            "timeout": 600,
        },
    ]
    assert variables["app_provisioned_for"]["schedule"] == [
        "clearsessions: python manage.py clearsessions (calendar daily, timeout 3600)",
        "report: python manage.py report (calendar Mon 06:00, timeout 600)",
    ]


def test_checks_reach_the_app_role_and_a_misspelt_one_is_refused():
    text = (EXAMPLE / "deploy/djops.yml").read_text()
    variables = plan.project_vars(target(parse_config(text, "deploy/djops.yml"), "production"))
    names = ("app_check_static", "app_check_cache", "app_check_address")
    assert [variables[name] for name in names] == [True, True, True]
    off = parse_config(text + "checks: {static: false, address: false}\n", "deploy/djops.yml")
    variables = plan.project_vars(target(off, "production"))
    assert [variables[name] for name in names] == [False, True, False]
    with pytest.raises(ConfigError, match="statics"):
        parse_config(text + "checks: {statics: false}\n", "deploy/djops.yml")


def test_the_app_role_gets_what_the_host_must_be_provisioned_for():
    # deploy and rollback compare it with the host's record and name a change that needs provision.
    text = (
        (EXAMPLE / "deploy/djops.yml")
        .read_text()
        .replace("services: [postgres, redis]", "services: [redis, postgres]")
    )
    variables = plan.project_vars(target(parse_config(text, "deploy/djops.yml"), "production"))
    assert variables["app_provisioned_for"] == {
        "services": ["postgres", "redis"],
        "tls": "acme",
        "processes": [],
        "schedule": [],
    }
    assert variables["app_provision_hint"] == "run `djops provision production` first"


@pytest.mark.parametrize("services", ["[postgres, redis]", "[postgres]", "[]"])
def test_provision_leaves_the_other_projects_on_a_shared_host_alone(services, tmp_path):
    # Each project hands over only its own app: were the roles' lists exclusive, provisioning
    # this one would remove the sites, pg_hba.conf lines and cache users of every other app on
    # the host. The flags hold without the service too: the host may still be in db or cache.
    text = (
        (EXAMPLE / "deploy/djops.yml")
        .read_text()
        .replace("services: [postgres, redis]", f"services: {services}")
    )
    assert f"services: {services}" in text
    config = parse_config(text, "deploy/djops.yml")
    v = plan.project_vars(target(config, "production"))
    assert v["nginx_sites_exclusive"] is False
    assert v["postgres_apps_exclusive"] is False
    assert v["redis_apps_exclusive"] is False
    assert [s["name"] for s in v["nginx_sites"]] == ["notes"]
    assert ("postgres_apps" in v) == ("postgres" in services)
    assert ("redis_apps" in v) == ("redis" in services)


def test_runner_environment_points_at_the_collection_and_keeps_host_keys_checked():
    env = runner.ansible_env()
    assert Path(env["ANSIBLE_COLLECTIONS_PATH"], "ansible_collections/djops/django").exists()
    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert env["ANSIBLE_PIPELINING"] == "True"


def test_runs_use_mitogens_strategy_unless_told_another(monkeypatch):
    monkeypatch.delenv("DJOPS_ANSIBLE_STRATEGY", raising=False)
    env = runner.ansible_env()
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert Path(env["ANSIBLE_STRATEGY_PLUGINS"], "mitogen_linear.py").is_file()
    monkeypatch.setenv("DJOPS_ANSIBLE_STRATEGY", "linear")
    env = runner.ansible_env()
    assert env["ANSIBLE_STRATEGY"] == "linear"
    assert "ANSIBLE_STRATEGY_PLUGINS" not in env


ED25519 = (Path(__file__).parent / "fixtures" / "ssh" / "ed25519.pub").read_text().strip()
ED25519_BOB = (Path(__file__).parent / "fixtures" / "ssh" / "ed25519_bob.pub").read_text().strip()


def test_admin_users_become_base_users_on_every_host(sandbox_web1):
    text = (
        (EXAMPLE / "deploy/djops.yml")
        .read_text()
        .replace(
            "    tls: self-signed\n",
            "    tls: self-signed\n"
            f"    admin_users:\n"
            f"      - {{name: admin, keys: ['{ED25519_BOB}']}}\n"
            f"      - {{name: alice, keys: ['{ED25519}', '{ED25519_BOB}']}}\n",
        )
    )
    config = parse_config(text, "deploy/djops.yml")
    web1 = plan.inventory(target(config, "sandbox", sandbox_web1))["all"]["hosts"]["web1"]
    # The sandbox's own login (admin) keeps the key djops logs in with, and gains the one given.
    assert web1["base_users"] == [
        {
            "name": "admin",
            "authorized_keys": ["ssh-ed25519 AAAAC3Nza sandbox", ED25519_BOB],
            "sudo": True,
        },
        {"name": "alice", "authorized_keys": [ED25519, ED25519_BOB], "sudo": True},
    ]


def test_a_provided_certificate_is_read_by_ansible_not_handed_over(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    text = (
        (EXAMPLE / "deploy/djops.yml")
        .read_text()
        .replace(
            "    acme_email: ops@example.com\n",
            "    tls:\n      certificate: deploy/tls/fullchain.pem\n"
            "      private_key: ~/notes.key\n",
        )
    )
    config = parse_config(text, "deploy/djops.yml")
    v = plan.project_vars(target(config, "production"))
    assert v["nginx_sites"][0]["tls"] == {
        "source": "provided",
        "certificate": "{{ lookup('ansible.builtin.file', djops_tls_certificate_file) }}",
        "private_key": "{{ lookup('ansible.builtin.file', djops_tls_private_key_file) }}",
    }
    assert v["djops_tls_certificate_file"] == str(EXAMPLE / "deploy/tls/fullchain.pem")
    assert v["djops_tls_private_key_file"] == str(tmp_path / "notes.key")


def test_provision_stops_before_ansible_when_a_real_host_would_lock_djops_out(
    tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from djops.cli import cli

    (tmp_path / "deploy").mkdir()
    text = (EXAMPLE / "deploy/djops.yml").read_text()
    text = text[: text.index("    # Who may log in")]
    (tmp_path / "deploy" / "djops.yml").write_text(text)
    monkeypatch.chdir(tmp_path)
    ran = []
    monkeypatch.setattr(runner, "run_playbook", lambda *a, **k: ran.append(a))
    monkeypatch.setattr(_playbook, "run_playbook", lambda *a, **k: ran.append(a))
    result = CliRunner().invoke(cli, ["provision", "production"])
    assert isinstance(result.exception, ConfigError), result.output
    assert result.exception.problems[0].startswith(
        "environments.production.admin_users: missing; the servers are hardened"
    )
    assert ran == []
