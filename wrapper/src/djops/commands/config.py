"""`djops config …`: read and validate deploy/djops.yml."""

from __future__ import annotations

import click


@click.group()
def config() -> None:
    """Validate and show the project's deploy/djops.yml."""
