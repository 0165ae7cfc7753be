"""djops-<app>-processes (roles/appserver/templates/processes.sh.j2), rendered and run.

systemctl and journalctl are stand-ins on PATH that record each call and answer from files: what
runs, each unit's state and restarts, its log. The units themselves are the Molecule app
scenario's to test; here, which units each action touches and what a failed start reports.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import jinja2
import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "roles/appserver/templates/processes.sh.j2"
UNITS = ["djops-notes-worker-1", "djops-notes-worker-2", "djops-notes-beat-1"]

SYSTEMCTL = r"""#!/bin/bash
# systemctl stand-in. $FAKE/running: the active units, one a line; $FAKE/state/UNIT and
# $FAKE/restarts/UNIT: what `show` answers (after a start: active, 0).
echo "systemctl $*" >> "$FAKE/calls"
unit=${@: -1}
case $1 in
  list-units) while read -r u; do echo "$u loaded active running x"; done < "$FAKE/running" ;;
  is-active)
    quiet=""; [ "$2" = --quiet ] && quiet=1
    if grep -qxF "$unit" "$FAKE/running"; then [ -n "$quiet" ] || echo active; exit 0; fi
    [ -n "$quiet" ] || echo inactive; exit 3 ;;
  start|restart|try-restart)
    grep -qxF "$unit" "$FAKE/running" || echo "$unit" >> "$FAKE/running" ;;
  stop)
    shift
    for u in "$@"; do
      grep -vxF "$u" "$FAKE/running" > "$FAKE/r" || true
      mv "$FAKE/r" "$FAKE/running"
    done ;;
  show)
    case $2 in
      --property=ActiveState) cat "$FAKE/state/$unit" 2>/dev/null || echo active ;;
      --property=NRestarts) cat "$FAKE/restarts/$unit" 2>/dev/null || echo 0 ;;
    esac ;;
esac
"""
JOURNALCTL = r"""#!/bin/sh
# journalctl stand-in: the log in $FAKE/log.
echo "journalctl $*" >> "$FAKE/calls"
cat "$FAKE/log" 2>/dev/null
"""


@pytest.fixture
def host(tmp_path: Path):
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True)  # noqa: S701 (a shell script)
    env.filters["comment"] = lambda text: f"# {text}"
    env.filters["quote"] = shlex.quote
    script = tmp_path / "processes"
    script.write_text(
        env.from_string(TEMPLATE.read_text()).render(
            ansible_managed="managed",
            appserver_app="notes",
            __appserver_dir=str(tmp_path / "srv"),
            __appserver_process_units=[{"unit": unit} for unit in UNITS],
        )
    )
    fake = tmp_path / "fake"
    for sub in ("state", "restarts"):
        (fake / sub).mkdir(parents=True)
    (fake / "running").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {"systemctl": SYSTEMCTL, "journalctl": JOURNALCTL}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "sleep").symlink_to("/bin/true")
    for release in ("r1", "r2"):
        (tmp_path / "srv" / "releases" / release).mkdir(parents=True)
        (tmp_path / "srv" / "releases" / release / ".djops-built").touch()
    (tmp_path / "srv" / "current").symlink_to("releases/r1")

    class Host:
        def run(self, *args: str) -> subprocess.CompletedProcess[str]:
            env = {**os.environ, "FAKE": str(fake), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
            return subprocess.run(
                ["bash", str(script), *args], capture_output=True, text=True, env=env, check=False
            )

        def running(self, *units: str) -> None:
            (fake / "running").write_text("".join(f"{u}\n" for u in units))

        def now_running(self) -> list[str]:
            return sorted((fake / "running").read_text().split())

        def answer(self, kind: str, unit: str, text: str) -> None:
            (fake / kind / unit).write_text(text + "\n")

        def log(self, text: str) -> None:
            (fake / "log").write_text(text)

        def calls(self) -> list[str]:
            path = fake / "calls"
            return path.read_text().splitlines() if path.exists() else []

    return Host()


def units_of(release: str) -> list[str]:
    return sorted(f"{unit}@{release}.service" for unit in UNITS)


def test_start_runs_every_instance_of_the_release(host):
    result = host.run("start", "r2", "5")
    assert result.returncode == 0, result.stderr
    assert host.now_running() == units_of("r2")


def test_a_process_that_restarted_fails_the_start_naming_its_error(host):
    host.answer("restarts", "djops-notes-worker-2@r2.service", "2")
    host.log("Traceback (most recent call last):\n  File x\nImportError: no module named tasks\n")
    result = host.run("start", "r2", "5")
    assert result.returncode == 12
    last = result.stderr.splitlines()[-1]
    assert last == (
        "process djops-notes-worker-2 did not keep running: ImportError: no module named tasks"
    )
    assert "djops-notes-worker-2@r2.service did not keep running" in result.stderr
    # The release's processes are stopped again; nothing of it runs.
    assert host.now_running() == []


def test_a_process_that_is_not_active_fails_the_start(host):
    host.answer("state", "djops-notes-beat-1@r2.service", "activating")
    host.log("Unknown command: 'beat'\nType 'manage.py help' for usage.\n")
    result = host.run("start", "r2", "5")
    assert result.returncode == 12
    assert result.stderr.splitlines()[-1] == (
        "process djops-notes-beat-1 did not keep running: "
        "Unknown command: 'beat' Type 'manage.py help' for usage."
    )


def test_restarts_before_this_start_do_not_count(host):
    # A run that finished a killed deploy's switch finds the processes running already.
    host.running(*units_of("r2"))
    host.answer("restarts", "djops-notes-worker-1@r2.service", "3")
    assert host.run("start", "r2", "5").returncode == 0


def test_stop_others_leaves_only_the_release_and_stops_what_is_not_configured(host):
    host.running(
        *units_of("r1"),
        *units_of("r2"),
        "djops-notes-worker-3@r2.service",  # an instance no longer configured
        "djops-notes-old-1@r1.service",  # a process taken out of the config
        "djops-notes@r2.service",  # the web app: not a process
        "djops-notes-check@r2.service",
        "djops-notes-job-tick.service",  # a scheduled job
        "djops-other-worker-1@r1.service",  # another app's
    )
    assert host.run("stop-others", "r2").returncode == 0
    assert host.now_running() == sorted(
        [
            *units_of("r2"),
            "djops-notes@r2.service",
            "djops-notes-check@r2.service",
            "djops-notes-job-tick.service",
            "djops-other-worker-1@r1.service",
        ]
    )


def test_back_stops_the_new_release_and_starts_the_previous_one(host):
    host.running(*units_of("r2"))
    assert host.run("back", "r2", "r1").returncode == 0
    assert host.now_running() == units_of("r1")
    # With no previous release (a first deploy), only the stop.
    host.running(*units_of("r2"))
    assert host.run("back", "r2", "").returncode == 0
    assert host.now_running() == []


def test_start_current_starts_what_is_not_running_and_names_it(host):
    host.running("djops-notes-worker-1@r1.service")
    result = host.run("start-current")
    assert result.returncode == 0
    assert result.stdout.split() == [
        "djops-notes-worker-2@r1.service",
        "djops-notes-beat-1@r1.service",
    ]
    assert host.now_running() == units_of("r1")
    assert host.run("start-current").stdout == ""


@pytest.mark.parametrize(
    "args",
    [("start",), ("start", "../r1"), ("start", "r1", "x"), ("stop-others",), ("nonsense", "r1")],
)
def test_bad_arguments_are_refused(host, args):
    result = host.run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("djops-notes-processes: ")
    assert not any(call.startswith("systemctl start") for call in host.calls())
