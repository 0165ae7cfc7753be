"""`djops config check` and `djops config show`, run the way a user runs them."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from djops.cli import cli, main

FIXTURE = Path(__file__).parent / "fixtures" / "config" / "djops.yml"

BROKEN = """\
app: notes
settings: notes.settings
wsgi: notes.wsgi:application
asgi: notes.asgi:application
env:
  SECRET_KEY: x
environments:
  production:
    hosts: [deploy@web1.example.com:99999]
    domains: [exa mple.com]
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A Django project with the full example config, as the current directory."""
    (tmp_path / "deploy").mkdir()
    shutil.copy(FIXTURE, tmp_path / "deploy" / "djops.yml")
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "requirements.txt").write_text("Django\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """`djops config` never contacts a host: any attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def run_djops(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the real entry point (its error handling included): exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["djops", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_check_a_good_config(project):
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == "deploy/djops.yml: ok (app notes; environments: production, staging)\n"


def test_check_exits_0_through_the_entry_point(project, monkeypatch, capsys):
    code, out, err = run_djops(monkeypatch, capsys, "config", "check")
    assert (code, err) == (0, "")
    assert out.startswith("deploy/djops.yml: ok")


def test_check_from_a_subdirectory_finds_the_file_above(project, monkeypatch):
    (project / "notes" / "templates").mkdir(parents=True)
    monkeypatch.chdir(project / "notes" / "templates")
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("../../deploy/djops.yml: ok (app notes;")


def test_check_reports_every_problem_on_stderr_and_exits_2(project, monkeypatch, capsys):
    (project / "deploy" / "djops.yml").write_text(BROKEN)
    code, out, err = run_djops(monkeypatch, capsys, "config", "check")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "error: deploy/djops.yml: asgi: wsgi and asgi are both set; keep the one your app is "
        "served by",
        "error: deploy/djops.yml: env.SECRET_KEY: secrets are generated on the server or "
        "supplied through Ansible Vault; remove it from env",
        "error: deploy/djops.yml: environments.production.acme_email: missing; tls is acme by "
        "default, which needs an e-mail address for certificate notices: add acme_email: "
        "you@example.com (or set tls: self-signed or tls: provided)",
        "error: deploy/djops.yml: environments.production.hosts[0]: "
        "'deploy@web1.example.com:99999': the port '99999' is not a number from 1 to 65535",
        "error: deploy/djops.yml: environments.production.domains[0]: 'exa mple.com' is not a "
        "valid host name (use letters, digits and hyphens, labels separated by dots)",
    ]


def test_check_with_c_uses_the_path_as_given(project, monkeypatch, capsys):
    (project / "other.yml").write_text("app: notes\n\tsettings: x\n")
    code, _, err = run_djops(monkeypatch, capsys, "config", "check", "-c", "other.yml")
    assert code == 2
    assert err == (
        "error: other.yml: line 2, column 1: not valid YAML: found character '\\t' that cannot "
        "start any token; indent with spaces, not tabs\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty; it needs at least app, settings, wsgi (or asgi) and environments"),
        ("app: notes\nsettings: [\n", "line 3, column 1: not valid YAML:"),
    ],
)
def test_check_empty_or_unparsable_file(project, monkeypatch, capsys, content, message):
    (project / "deploy" / "djops.yml").write_text(content)
    code, _, err = run_djops(monkeypatch, capsys, "config", "check")
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: deploy/djops.yml: {message}")


def test_check_when_there_is_no_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_djops(monkeypatch, capsys, "config", "check")
    assert code == 2
    assert out == ""
    assert err == (
        f"error: no deploy/djops.yml in {tmp_path} or any directory above it; run djops inside "
        "your Django project, or give the file with -c PATH\n"
    )


def test_check_a_c_path_that_does_not_exist(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_djops(monkeypatch, capsys, "config", "check", "-c", "nope.yml")
    assert (code, err) == (2, "error: nope.yml: no such file\n")


def test_check_looks_at_the_project_files(project, monkeypatch, capsys):
    (project / "requirements.txt").unlink()
    code, _, err = run_djops(monkeypatch, capsys, "config", "check")
    assert code == 2
    assert err == "error: deploy/djops.yml: requirements: requirements.txt does not exist\n"


def test_check_json_ok(project):
    result = CliRunner().invoke(cli, ["config", "check", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"ok": True, "source": "deploy/djops.yml", "problems": []}


def test_check_json_with_problems(project):
    (project / "deploy" / "djops.yml").write_text(BROKEN)
    result = CliRunner().invoke(cli, ["config", "check", "--json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["source"] == "deploy/djops.yml"
    assert len(report["problems"]) == 5
    assert report["problems"][0].startswith("asgi: wsgi and asgi are both set")


def test_check_json_when_there_is_no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config", "check", "--json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["ok"] is False and report["source"] is None
    assert report["problems"][0].startswith("no deploy/djops.yml in ")


def test_show_prints_the_defaulted_config(project):
    (project / "deploy" / "djops.yml").write_text(
        "app: notes\nsettings: notes.settings\nwsgi: notes.wsgi:application\n"
        "environments:\n  production:\n    hosts: [web1.example.com]\n"
        "    domains: [example.com]\n    tls: self-signed\n"
    )
    (project / ".python-version").write_text("3.13\n")
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# deploy/djops.yml with defaults filled in\n")
    shown = yaml.safe_load(result.output)
    assert shown["python"] == "3.13"
    assert shown["appserver"] == "gunicorn"
    assert shown["releases_kept"] == 5
    assert shown["env_names"]["database_url"] == "DATABASE_URL"
    assert shown["environments"]["production"]["hosts"] == [
        {"address": "web1.example.com", "roles": ["web", "app", "db", "cache"]}
    ]
    assert shown["environments"]["production"]["acme_directory"].startswith("https://")


def test_show_one_environment_merged(project):
    result = CliRunner().invoke(cli, ["config", "show", "staging"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["environment"] == "staging"
    assert "environments" not in shown
    assert shown["domains"] == ["staging.example.com"]
    assert shown["env"] == {"DJANGO_LOG_LEVEL": "DEBUG", "DEFAULT_FROM_EMAIL": "notes@example.com"}
    assert shown["env_names"]["redis_url"] == "CACHE_URL"


def test_show_an_unknown_environment(project, monkeypatch, capsys):
    code, out, err = run_djops(monkeypatch, capsys, "config", "show", "prod")
    assert (code, out) == (2, "")
    assert err == (
        "error: no environment 'prod' in the config (did you mean 'production'?); "
        "it defines: production, staging\n"
    )


def test_show_a_broken_config_exits_2(project, monkeypatch, capsys):
    (project / "deploy" / "djops.yml").write_text(BROKEN)
    code, out, err = run_djops(monkeypatch, capsys, "config", "show")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 5
