"""Print, as one JSON object, what a deploy or a rollback needs to know about an app's host.

Usage: python3 state.py APP_DIR UNIT RELEASE_ID MANAGE
One round trip instead of a task per fact: the served release and whether its unit runs, the
releases on disk (built or not), the release history, the deploy lock's holder and whether the
app server was set up (MANAGE exists). Reads only; changes nothing.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

app_dir, unit, release, manage = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
lock_request = sys.argv[5] if len(sys.argv) > 5 else ""
releases_dir = app_dir / "releases"

lock_file = app_dir / "deploy.lock"
UNKNOWN_HOLDER = {"user": "?", "controller": "?", "release": "?", "since": "?", "epoch": 0}


def take_lock() -> bool:
    """Create the lock file naming this run, unless it exists (O_EXCL: one run wins)."""
    try:
        fd = os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(lock_request + "\n")
    return True


# First, so that the rest is read under the lock. Only for an app whose server was set up: a run
# that stops on a missing app server must not leave a lock behind.
lock_taken = bool(lock_request) and manage.exists() and take_lock()

current = app_dir / "current"
served = Path(current.readlink()).name if current.is_symlink() else ""

active = bool(served) and (
    subprocess.run(
        ["systemctl", "is-active", "--quiet", f"{unit}@{served}.service"],
        check=False,
        stderr=subprocess.DEVNULL,
    ).returncode
    == 0
)

releases = sorted(p.name for p in releases_dir.iterdir()) if releases_dir.is_dir() else []
built = [r for r in releases if (releases_dir / r / ".djops-built").exists()]

history_file = app_dir / "history"
history = history_file.read_text(encoding="utf-8").split() if history_file.exists() else []

# A lock that cannot be read (a run killed while writing it) still blocks, as one of unknown origin.
lock = None
if not lock_taken and lock_file.exists():
    try:
        lock = json.loads(lock_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        lock = None
    if not isinstance(lock, dict):
        lock = UNKNOWN_HOLDER

json.dump(
    {
        "served": served,
        "active": active,
        "releases": releases,
        "built": built,
        "release_built": release in built,
        "history": history,
        "lock": lock,
        "lock_taken": lock_taken,
        "manage": manage.exists(),
    },
    sys.stdout,
)
