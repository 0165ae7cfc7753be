"""What provision, deploy and rollback share: load the config, run a playbook, show progress."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from djops import config as config_mod
from djops import plan
from djops.errors import ConfigError, UsageError
from djops.runner import PlaybookRun, RunResult, run_playbook
from djops.sandbox import state as sandbox_state
from djops.sandbox.paths import SandboxPaths

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
            # Under the task's line: the runner's one-line cause, secrets masked (never the raw
            # result, which may hold them).
            message = data.get("message", "failed")
            click.echo(
                click.style(f"    ✗ {data.get('host')}: {message}", fg="red"),
                err=True,
            )


def load(
    config_path: Path | None,
    env_name: str,
    problems: Callable[[config_mod.ProjectConfig, Path], list[str]] | None = None,
) -> plan.Target:
    """The run's target from the config file (found from the current directory when not given).

    Refuses, before anything runs: an environment the config does not have (naming the ones it
    has), what `problems` finds in the config (all of it at once), and a sandbox host that is
    not up.
    """
    path = config_mod.resolve_config_path(config_path)
    project = config_mod.load_config(path)
    root = config_mod.project_root(path)
    project.environment(env_name)
    found = problems(project, root) if problems else []
    if found:
        raise ConfigError(str(path), found)
    return target(project, root, env_name)


def target(
    project: config_mod.ProjectConfig,
    root: Path,
    env_name: str,
    paths: SandboxPaths | None = None,
) -> plan.Target:
    env = project.environment(env_name)  # a UsageError naming the environments when unknown
    paths = paths or SandboxPaths.from_env()
    sandboxes = {}
    for host in env.hosts:
        if host.is_sandbox:
            state = sandbox_state.load(paths, host.sandbox)
            if state is None or not sandbox_state.is_running(state):
                raise UsageError(
                    f"environments.{env_name}.hosts: sandbox host {host.sandbox} is not up "
                    f"(start it with: djops sandbox up {host.sandbox})"
                )
            sandboxes[host.sandbox] = state
    return plan.Target(
        config=project,
        env_name=env_name,
        env=env,
        root=root,
        python=config_mod.resolve_python(project, root),
        sandboxes=sandboxes,
        paths=paths,
    )


def build_run(
    playbook: str, target: plan.Target, extra: dict[str, Any] | None = None
) -> PlaybookRun:
    return PlaybookRun(
        playbook=playbook,
        inventory=plan.inventory(target),
        extravars={**plan.project_vars(target), **(extra or {})},
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
