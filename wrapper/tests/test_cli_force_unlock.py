"""`--force-unlock` on deploy and rollback, and the lock's notes in the CLI's progress."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from djops.cli import cli
from djops.commands import _playbook
from djops.runner import RunResult

FIXTURE = Path(__file__).parent / "fixtures" / "config" / "djops.yml"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A Django project with the example config (deployed with --path), as the current directory."""
    (tmp_path / "deploy").mkdir()
    shutil.copy(FIXTURE, tmp_path / "deploy" / "djops.yml")
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "requirements.txt").write_text("Django\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def runs(monkeypatch):
    """The playbook runs the CLI asks for (none reaches Ansible)."""
    asked = []

    def run_playbook(run, *, progress=None, verbose=False):
        asked.append(run)
        return RunResult(ok=True, status="successful", changed={}, failures=[], duration=1.0)

    monkeypatch.setattr(_playbook, "run_playbook", run_playbook)
    return asked


@pytest.mark.parametrize(
    ("args", "playbook"),
    [
        (["deploy", "production", "--path"], "deploy.yml"),
        (["rollback", "production"], "rollback.yml"),
    ],
)
@pytest.mark.parametrize("force", [True, False])
def test_force_unlock_reaches_the_playbook(project, runs, args, playbook, force):
    result = CliRunner().invoke(cli, [*args, *(["--force-unlock"] if force else [])])
    assert result.exit_code == 0, result.output
    (run,) = runs
    assert run.playbook == playbook
    assert run.extravars["app_force_unlock"] is force


def test_progress_shows_what_a_role_says_under_its_task(capsys):
    progress = _playbook.Progress(enabled=True)
    progress("playbook_on_task_start", {"task": "Name the holder whose lock was taken over"})
    progress(
        "runner_on_ok",
        {
            "host": "web1",
            "task_action": "ansible.builtin.debug",
            "res": {
                "msg": "taking over the forcibly unlocked lock of alice@laptop (pid 4242, release "
                "r1) since 2026-01-01T00:00:00Z, last refreshed 30 s ago"
            },
        },
    )
    progress("runner_on_ok", {"host": "web1", "task_action": "ansible.builtin.command", "res": {}})
    assert capsys.readouterr().err == (
        "  Name the holder whose lock was taken over\n"
        "    web1: taking over the forcibly unlocked lock of alice@laptop (pid 4242, release r1)"
        " since 2026-01-01T00:00:00Z, last refreshed 30 s ago\n"
    )
