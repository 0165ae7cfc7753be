"""Print, as one JSON object, what a deploy or a rollback needs to know about an app's host.

Usage: python3 state.py APP_DIR UNIT RELEASE_ID MANAGE
One round trip instead of a task per fact: the served release and whether its unit runs, the
releases on disk (built or not) and the app servers each built one's venv carries, the release
history, whether the app server was set up (MANAGE exists) and what provisioning set the host up
for (APP_DIR/provisioned.json; null when it was provisioned before that record was kept). Reads
only; changes nothing. It runs under lock.py's `take`, which takes the deploy lock first, so that
what it reads stays true while the run holds the lock.
"""

import json
import subprocess
import sys
from pathlib import Path

app_dir, unit, release, manage = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
releases_dir = app_dir / "releases"

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
servers = {
    r: [s for s in ("gunicorn", "uwsgi") if (releases_dir / r / ".venv" / "bin" / s).exists()] for r in built
}

record_file = app_dir / "provisioned.json"
try:
    provisioned = json.loads(record_file.read_text(encoding="utf-8"))
except FileNotFoundError:
    provisioned = None
except ValueError:
    # Not JSON: the comparison says to provision again, which rewrites it.
    provisioned = "unreadable"

history_file = app_dir / "history"
history = history_file.read_text(encoding="utf-8").split() if history_file.exists() else []

json.dump(
    {
        "served": served,
        "active": active,
        "releases": releases,
        "built": built,
        "servers": servers,
        "release_built": release in built,
        "history": history,
        "manage": manage.exists(),
        "provisioned": provisioned,
    },
    sys.stdout,
)
