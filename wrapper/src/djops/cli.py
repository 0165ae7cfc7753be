"""The `djops` command: a Click group whose commands live in djops.commands."""

from __future__ import annotations

import sys

import click

from djops import __version__
from djops.commands.config import config
from djops.commands.deploy import deploy, rollback
from djops.commands.provision import provision
from djops.commands.sandbox import sandbox
from djops.errors import EXIT_FAILED, DjopsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="djops")
@click.option("--debug", is_flag=True, help="Show tracebacks and Ansible's own output.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Deploy a Django project to a hardened Ubuntu/Debian server, and keep it running.

    Developers run djops from their Django project, whose deploy/djops.yml
    describes the app and its environments. Sysadmins can use the bundled
    Ansible collection djops.django directly.
    """
    ctx.obj = {"debug": debug}


cli.add_command(config)
cli.add_command(provision)
cli.add_command(deploy)
cli.add_command(rollback)
cli.add_command(sandbox)


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(EXIT_FAILED)
    except click.ClickException as exc:  # usage errors: exit 2 with Click's message
        exc.show()
        sys.exit(exc.exit_code)
    except DjopsError as exc:
        if debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True
        )
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)
