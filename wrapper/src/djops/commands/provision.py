"""`djops provision ENV`: make the environment's servers ready (site.yml)."""

from __future__ import annotations

from pathlib import Path

import click

from djops import config as config_mod
from djops.commands import _playbook
from djops.commands.config import config_option


@click.command()
@click.argument("environment")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of progress.")
@click.pass_context
def provision(
    ctx: click.Context, environment: str, config_path: Path | None, as_json: bool
) -> None:
    """Harden ENVIRONMENT's servers and install what the app needs (runs site.yml).

    Safe to run again: a second run changes nothing.
    """
    target = _playbook.load(config_path, environment, problems=config_mod.provision_problems)
    run = _playbook.build_run("site.yml", target)
    _playbook.execute(run, as_json=as_json, debug=ctx.obj["debug"])
