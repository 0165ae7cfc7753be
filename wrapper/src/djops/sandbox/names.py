"""Host names: a managed block in /etc/hosts, on the controller and in every sandbox host.

The block maps each host's name (and the extra names given with ``--alias``, like ``app.test``)
to its address, so ``curl https://app.test/`` works against a sandbox as against a real server.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from djops.sandbox import system

BEGIN = "# BEGIN djops sandbox (managed by djops; removed by `djops sandbox down`)"
END = "# END djops sandbox"


def controller_hosts_file() -> Path:
    # Tests point this elsewhere; everyone else edits the real one.
    return Path(os.environ.get("DJOPS_SANDBOX_HOSTS_FILE", "/etc/hosts"))


def render_block(entries: Iterable[tuple[str, list[str]]]) -> str:
    lines = [f"{address}\t{' '.join(names)}" for address, names in entries]
    return "\n".join([BEGIN, *lines, END]) + "\n" if lines else ""


def replace_block(text: str, block: str) -> str:
    """Put block in place of the managed block (appended when absent, dropped when empty)."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        if line.startswith(BEGIN.split(" (")[0]):
            inside = True
            continue
        if inside:
            if line.startswith(END):
                inside = False
            continue
        kept.append(line)
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    return body + block


def update_file(path: Path, block: str) -> None:
    current = path.read_text() if path.exists() else ""
    new = replace_block(current, block)
    if new != current:
        system.write_atomic(path, new, mode=0o644)
