"""What the CLI says when a task fails: the task and a cause in words, never a secret.

ansible_runner.run is replaced by a fake that plays back events shaped like the ones
ansible-core 2.19 sends through ansible-runner (a no_log task's result is censored; Ansible's
own error line stays on its display, the event's stdout).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from djops import runner
from djops.commands._playbook import Progress
from djops.errors import OperationFailed
from djops.redact import Redactor

CENSORED = {
    "censored": "the output has been hidden due to the fact that 'no_log: true' was specified "
    "for this result"
}
SECRET_KEY = "k3y-7Hh2vQ9xLmN0pR4sT6uW8yZ1aB3cD5eF7gH9jK"


def failed(task: str, res: dict[str, Any], stdout: str = "") -> dict[str, Any]:
    return {
        "event": "runner_on_failed",
        "stdout": stdout,
        "event_data": {"host": "app1", "task": task, "res": res, "ignore_errors": None},
    }


def play(monkeypatch, capsys, events: list[dict[str, Any]], extravars: dict | None = None):
    """Run a playbook whose run sends `events`: the lines Progress printed, then the error."""

    def fake_run(**kwargs):
        kwargs["event_handler"]({"event": "playbook_on_play_start", "event_data": {"name": "P"}})
        for event in events:
            kwargs["event_handler"](
                {"event": "playbook_on_task_start", "event_data": event["event_data"]}
            )
            kwargs["event_handler"](event)
        return types.SimpleNamespace(rc=2, status="failed", stats={})

    monkeypatch.setitem(sys.modules, "ansible_runner", types.SimpleNamespace(run=fake_run))
    run = runner.PlaybookRun(playbook="site.yml", inventory={}, extravars=extravars or {})
    with pytest.raises(OperationFailed) as error:
        runner.run_playbook(run, progress=Progress(enabled=True))
    return [*capsys.readouterr().err.splitlines(), f"error: {error.value}"]


def test_a_no_log_task_that_fails_says_what_failed_in_words(monkeypatch, capsys):
    stdout = (
        "\x1b[0;31m[ERROR]: Task failed: Module failed: File not found: "
        "/etc/djops/secrets/notes/redis_password\x1b[0m\n"
        "\x1b[0;31mOrigin: connections.yml:36:3\x1b[0m"
    )
    lines = play(monkeypatch, capsys, [failed("Read the cache credentials", CENSORED, stdout)])
    assert lines[-1] == (
        "error: app1: Read the cache credentials: File not found: "
        "/etc/djops/secrets/notes/redis_password"
    )
    assert "    ✗ app1: File not found: /etc/djops/secrets/notes/redis_password" in lines
    assert not any(line.endswith(": failed") for line in lines)


def test_a_no_log_task_with_nothing_on_display_still_says_why_it_is_silent(monkeypatch, capsys):
    lines = play(monkeypatch, capsys, [failed("Read the cache credentials", CENSORED)])
    assert lines[-1] == f"error: app1: Read the cache credentials: {runner.NO_LOG_CAUSE}"


def test_a_failure_message_from_django_shows_no_secret(monkeypatch, capsys):
    stderr = (
        "Traceback (most recent call last):\n  ...\n"
        "django.core.exceptions.ImproperlyConfigured: settings refused: "
        f"SECRET_KEY={SECRET_KEY} DATABASES={{'default': {{'PASSWORD': 'pg-pass-123'}}}}"
    )
    events = [
        failed("Apply migrations", {"msg": "non-zero return code", "stderr": stderr}),
        failed(
            "Fail with the cause",
            {"msg": "deploy failed: could not connect postgres://notes:pg-pass-123@db/notes"},
        ),
    ]
    lines = play(monkeypatch, capsys, events)
    text = "\n".join(lines)
    assert SECRET_KEY not in text and "pg-pass-123" not in text, text
    assert (
        "    ✗ app1: django.core.exceptions.ImproperlyConfigured: settings refused: "
        "SECRET_KEY=******** DATABASES={'default': {'PASSWORD': '********'}}" in lines
    )
    assert lines[-1] == (
        "error: app1: Fail with the cause: deploy failed: could not connect "
        "postgres://notes:********@db/notes"
    )


def test_values_the_run_was_given_are_masked_under_the_names_it_uses(monkeypatch, capsys):
    variables = {
        "app_env_names": {"secret_key": "DJ_KEY", "database_url": "DB"},
        "app_env": {"STRIPE_API_KEY": "sk_live_4242", "TZ": "UTC"},
        "app_secret_key": SECRET_KEY,
    }
    message = f"key {SECRET_KEY} / DB: sqlite:///x.db / DJ_KEY='abc' / sk_live_4242 / TZ=UTC"
    lines = play(monkeypatch, capsys, [failed("Check", {"msg": message})], variables)
    assert lines[-1] == (
        "error: app1: Check: key ******** / DB: ******** / DJ_KEY='********' / ******** / TZ=UTC"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Read the cache credentials: failed",
        "The SECRET_KEY setting must not be empty.",
        "HTTP 503 from /healthz",
    ],
)
def test_ordinary_messages_are_left_alone(text):
    assert Redactor()(text) == text
