"""What provision, deploy and rollback share: load the config, run a playbook, show progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from djops import config as config_mod
from djops import plan
from djops.runner import PlaybookRun, RunResult, run_playbook

DEBUG_ACTIONS = ("debug", "ansible.builtin.debug", "ansible.legacy.debug")


class Progress:
    """One line per task as it runs; failures under the task that failed."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if not self.enabled:
            return
        if kind == "playbook_on_play_start":
            click.echo(click.style(f"▸ {data.get('name', '')}", bold=True), err=True)
        elif kind == "playbook_on_task_start":
            click.echo(f"  {data.get('task', '')}", err=True)
        elif kind == "runner_on_ok" and data.get("task_action") in DEBUG_ACTIONS:
            # What a role says to the user (a deploy lock taken over, whose): under its task.
            message = (data.get("res", {}) or {}).get("msg")
            lines = message if isinstance(message, list) else str(message or "").splitlines()
            for line in lines:
                click.echo(f"    {data.get('host')}: {line}", err=True)
        elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get(
            "ignore_errors"
        ):
            res = data.get("res", {}) or {}
            message = str(res.get("msg") or res.get("stderr") or "failed").strip().splitlines()
            click.echo(
                click.style(f"    ✗ {data.get('host')}: {message[0] if message else ''}", fg="red"),
                err=True,
            )


def load(config_path: Path | None, env_name: str) -> tuple[config_mod.ProjectConfig, Path]:
    path = config_mod.resolve_config_path(config_path)
    project = config_mod.load_config(path)
    project.environment(env_name)  # a UsageError naming the environments when unknown
    return project, config_mod.project_root(path)


def build_run(
    playbook: str,
    project: config_mod.ProjectConfig,
    root: Path,
    env_name: str,
    extra: dict[str, Any] | None = None,
) -> PlaybookRun:
    return PlaybookRun(
        playbook=playbook,
        inventory=plan.inventory(project, env_name),
        extravars={**plan.project_vars(project, env_name, root), **(extra or {})},
    )


def execute(run: PlaybookRun, *, as_json: bool, debug: bool) -> RunResult:
    result = run_playbook(run, progress=Progress(enabled=not as_json), verbose=debug)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "playbook": run.playbook,
                    "changed": result.changed,
                    "duration": round(result.duration, 1),
                }
            )
        )
    else:
        changed = sum(result.changed.values())
        click.echo(f"{run.playbook}: ok in {result.duration:.0f} s ({changed} changed)")
    return result
