"""`djops config …`: read and validate deploy/djops.yml."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from djops.config import (
    check_config,
    config_as_data,
    load_config,
    project_root,
    resolve_config_path,
    resolve_python,
)
from djops.errors import ConfigError, UsageError

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH",
    help="The config file (default: deploy/djops.yml, here or in a directory above).",
)


@click.group()
def config() -> None:
    """Validate and show the project's deploy/djops.yml."""


@config.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help='Print {"ok": …, "problems": […]} on stdout.')
@click.pass_context
def check(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """Check deploy/djops.yml and the project files it names.

    Every problem is reported, each naming the field and the fix; the exit status is 2 when there
    is any. No host is contacted.
    """
    try:
        path = resolve_config_path(config_path)
        project = check_config(path)
    except UsageError as exc:
        if not as_json:
            raise
        if isinstance(exc, ConfigError):
            report = {"ok": False, "source": exc.source, "problems": exc.problems}
        else:
            report = {"ok": False, "source": None, "problems": [str(exc)]}
        click.echo(json.dumps(report, indent=2))
        ctx.exit(exc.exit_code)
    if as_json:
        click.echo(json.dumps({"ok": True, "source": str(path), "problems": []}, indent=2))
    else:
        names = ", ".join(sorted(project.environments))
        click.echo(f"{path}: ok (app {project.app}; environments: {names})")


@config.command()
@config_option
@click.argument("environment", required=False)
def show(config_path: Path | None, environment: str | None) -> None:
    """Print the config with every default filled in, as YAML.

    Given ENVIRONMENT, print what a deploy to it uses: that environment's settings merged into
    the top level, its env over the top-level env.
    """
    path = resolve_config_path(config_path)
    project = load_config(path)
    try:
        python = resolve_python(project, project_root(path))
    except UsageError:
        python = None  # `djops config check` says why; showing the rest is still useful
    data = config_as_data(project, environment, python)
    scope = f", environment {environment}" if environment else ""
    click.echo(f"# {path} with defaults filled in{scope}")
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
