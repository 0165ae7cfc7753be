"""`djops deploy ENV` and `djops rollback ENV`: releases through deploy.yml and rollback.yml."""

from __future__ import annotations

from pathlib import Path

import click

from djops import source
from djops.commands import _playbook
from djops.commands.config import config_option
from djops.errors import UsageError


@click.command()
@click.argument("environment")
@config_option
@click.option("--ref", default="HEAD", show_default=True, help="The git commit to deploy.")
@click.option(
    "--path",
    "from_path",
    is_flag=True,
    help="Send the project directory as it is (uncommitted changes too) instead of a commit; "
    "what .gitignore ignores is left out.",
)
@click.option(
    "--include-file",
    "include_files",
    multiple=True,
    metavar="PATH",
    help="With --path: send this file although it looks like a secret (a key, .env, a SQLite "
    "database); relative to the project directory. Repeatable.",
)
@click.option(
    "--force-unlock",
    is_flag=True,
    help="Take over the deploy lock of another run (named in the output): only once it is gone.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of progress.")
@click.pass_context
def deploy(
    ctx: click.Context,
    environment: str,
    config_path: Path | None,
    ref: str,
    from_path: bool,
    include_files: tuple[str, ...],
    force_unlock: bool,
    as_json: bool,
) -> None:
    """Deploy the project's committed code (git HEAD) to ENVIRONMENT.

    The release is built next to the one serving, checked, migrated and switched to only when
    its health check passes; otherwise the old release keeps serving and djops says why.
    """
    if include_files and not from_path:
        raise UsageError("--include-file goes with --path (a commit is sent as it was committed)")
    target = _playbook.load(config_path, environment)
    # The archive holds the project root; project_dir and requirements are relative to it.
    root = target.root
    code = source.from_path(root, include_files) if from_path else source.from_git(root, ref)
    if code.dirty and not as_json:
        click.echo(
            "note: uncommitted changes are not deployed (commit them, or use --path)", err=True
        )
    try:
        run = _playbook.build_run(
            "deploy.yml",
            target,
            {
                "app_archive": str(code.archive),
                "app_git_ref": code.ref,
                "app_deployer": code.deployer,
                "app_force_unlock": force_unlock,
            },
        )
        _playbook.execute(run, as_json=as_json, debug=ctx.obj["debug"])
    finally:
        code.archive.unlink(missing_ok=True)
        code.archive.parent.rmdir()


@click.command()
@click.argument("environment")
@config_option
@click.option(
    "--to", "release", default="", help="The release to go back to (default: the previous)."
)
@click.option(
    "--force-unlock",
    is_flag=True,
    help="Take over the deploy lock of another run (named in the output): only once it is gone.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of progress.")
@click.pass_context
def rollback(
    ctx: click.Context,
    environment: str,
    config_path: Path | None,
    release: str,
    force_unlock: bool,
    as_json: bool,
) -> None:
    """Switch ENVIRONMENT back to the previous release (or the one given with --to)."""
    target = _playbook.load(config_path, environment)
    run = _playbook.build_run(
        "rollback.yml",
        target,
        {"app_rollback_to": release, "app_force_unlock": force_unlock},
    )
    _playbook.execute(run, as_json=as_json, debug=ctx.obj["debug"])
