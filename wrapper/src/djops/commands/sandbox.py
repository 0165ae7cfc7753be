"""`djops sandbox …`: local production-like servers (systemd-nspawn hosts)."""

from __future__ import annotations

import json
import os
import sys

import click
import yaml

from djops.errors import UsageError
from djops.sandbox import ca, hosts, images, inventory
from djops.sandbox import state as sandbox_state
from djops.sandbox.paths import SandboxPaths


def _log(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def sandbox() -> None:
    """Boot and manage local sandbox servers to rehearse deployments on.

    Each host is a systemd-nspawn container booting real systemd, with its own
    network namespace, SSH host keys and address in 198.18.0.0/16, reachable by
    name from this machine and from the other hosts. Needs root.
    """


@sandbox.command()
@click.argument("name")
@click.option(
    "--distro",
    type=click.Choice(list(images.DISTROS)),
    default=images.DEFAULT_DISTRO,
    show_default=True,
    help="Release the host runs.",
)
@click.option(
    "--alias",
    "aliases",
    multiple=True,
    metavar="HOSTNAME",
    help="Extra name for the host in /etc/hosts (repeatable), like app.test.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the host's connection details as JSON."
)
def up(name: str, distro: str, aliases: tuple[str, ...], as_json: bool) -> None:
    """Boot sandbox host NAME (does nothing if it is already up)."""
    state = hosts.up(SandboxPaths.from_env(), name, distro, list(aliases), log=_log)
    if as_json:
        click.echo(json.dumps(state.as_dict(SandboxPaths.from_env()), indent=2))


@sandbox.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_hosts", is_flag=True, help="Remove every sandbox host.")
def down(names: tuple[str, ...], all_hosts: bool) -> None:
    """Stop sandbox hosts and remove everything they left on this machine."""
    paths = SandboxPaths.from_env()
    if all_hosts == bool(names):
        raise UsageError("name the hosts to remove, or give --all")
    if all_hosts:
        removed = hosts.down_all(paths, log=_log)
        click.echo(
            f"removed {len(removed)} sandbox host(s){': ' if removed else ''}{' '.join(removed)}"
        )
        return
    for name in names:
        existed = hosts.down(paths, name, log=_log)
        click.echo(f"{name}: {'removed' if existed else 'was not up'}")


@sandbox.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(as_json: bool) -> None:
    """List sandbox hosts."""
    paths = SandboxPaths.from_env()
    rows = [s.as_dict(paths) for s in sandbox_state.all_states(paths)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no sandbox hosts (start one with: djops sandbox up NAME)")
        return
    click.echo(f"{'NAME':<16} {'STATE':<8} {'DISTRO':<13} {'ADDRESS':<15} ALIASES")
    for row in rows:
        click.echo(
            f"{row['name']:<16} {row['state']:<8} {row['distro']:<13} {row['address']:<15} "
            f"{' '.join(row['aliases'])}"
        )


@sandbox.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def ssh(name: str, command: tuple[str, ...]) -> None:
    """Open a shell on NAME as its sudo user, or run COMMAND there (after --)."""
    paths = SandboxPaths.from_env()
    state = sandbox_state.load(paths, name)
    if state is None or not sandbox_state.is_running(state):
        raise UsageError(f"sandbox host {name} is not up (start it with: djops sandbox up {name})")
    argv = hosts.ssh_argv(paths, state, batch=bool(command))
    if not command and sys.stdin.isatty():
        argv.insert(1, "-t")
    sys.stdout.flush()
    os.execvp(argv[0], [*argv, *command])  # noqa: S606 (hand the terminal over to ssh)


@sandbox.command(name="ca")
def ca_() -> None:
    """Print the path of the sandbox CA's certificate, to trust for sandbox sites.

    Sites with `tls: self-signed` on sandbox hosts get certificates signed by this CA, e.g.
    curl --cacert "$(djops sandbox ca)" https://notes.test/ (docs/sandbox.md).
    """
    click.echo(str(ca.ensure(SandboxPaths.from_env())))


@sandbox.command(name="inventory")
@click.argument("names", nargs=-1)
@click.option(
    "--json", "as_json", is_flag=True, help="JSON (for a dynamic inventory) instead of YAML."
)
def inventory_(names: tuple[str, ...], as_json: bool) -> None:
    """Print an Ansible inventory for sandbox hosts (all of them when none is named)."""
    data = inventory.build(SandboxPaths.from_env(), list(names))
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False), nl=False)
