"""roles/app/files/release.sh: the switch to a new release, the way back, and pruning.

Run as the role runs it (sh -c "$(cat release.sh)" sh ACTION ...) on a real app directory, with
systemctl, curl and systemd-run replaced by stand-ins on PATH that record what they were asked
and answer from files: the units themselves are the Molecule app scenario's to test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles/app/files/release.sh"
UNIT = "djops-notes"

SYSTEMCTL = r"""#!/bin/sh
# systemctl stand-in: records each call; answers is-active from $FAKE/active/UNIT, list-units
# from $FAKE/units, and fails start for a unit named in $FAKE/fail-start.
echo "systemctl $*" >> "$FAKE/calls"
case $1 in
  is-active) cat "$FAKE/active/$2" 2>/dev/null || echo inactive ;;
  list-units) cat "$FAKE/units" 2>/dev/null ;;
  start) ! grep -qxF "$2" "$FAKE/fail-start" 2>/dev/null ;;
esac
"""
CURL = r"""#!/bin/sh
# curl stand-in: records each call; prints the next code of $FAKE/codes (the last one repeats).
echo "curl $*" >> "$FAKE/calls"
n=$(grep -c '^curl ' "$FAKE/calls")
code=$(sed -n "${n}p" "$FAKE/codes")
[ -n "$code" ] || code=$(tail -n 1 "$FAKE/codes")
printf '%s' "$code"
"""
SYSTEMD_RUN = r"""#!/bin/sh
# systemd-run stand-in: records the call, then runs the command at once (after the options).
echo "systemd-run $*" >> "$FAKE/calls"
while [ "${1#--}" != "$1" ]; do shift; done
exec "$@"
"""


@pytest.fixture
def host(tmp_path: Path):
    """An app directory with releases r1 (served) and r2 (new), and the stand-ins."""
    fake = tmp_path / "fake"
    (fake / "active").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {"systemctl": SYSTEMCTL, "curl": CURL, "systemd-run": SYSTEMD_RUN}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "sleep").symlink_to("/bin/true")
    app_dir = tmp_path / "srv"
    for release in ("r1", "r2"):
        (app_dir / "releases" / release).mkdir(parents=True)
    (app_dir / "current").symlink_to("releases/r1")

    class Host:
        dir = app_dir

        def run(self, *args: str) -> subprocess.CompletedProcess[str]:
            env = {**os.environ, "FAKE": str(fake), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
            return subprocess.run(
                ["sh", "-c", SCRIPT.read_text(), "sh", *args],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )

        def answer(self, name: str, text: str) -> None:
            (fake / name).write_text(text)

        def calls(self, program: str = "systemctl") -> list[str]:
            path = fake / "calls"
            lines = path.read_text().splitlines() if path.exists() else []
            return [line for line in lines if line.startswith(program + " ")]

        def current(self) -> str:
            link = app_dir / "current"
            return str(link.readlink()) if link.is_symlink() else ""

    return Host()


def switch(host, tries: str = "3"):
    return host.run("switch", UNIT, "r2", "notes.test", "/healthz", tries, str(host.dir))


def test_a_healthy_release_serves_and_every_other_instance_stops(host):
    host.answer("codes", "503\n200\n")
    host.answer(
        "units",
        f"{UNIT}@r1.service loaded active running\n"
        f"{UNIT}@r0.service loaded active running\n"
        f"{UNIT}@r2.service loaded active running\n"
        f"{UNIT}-check@r0.service loaded active running\n"
        f"{UNIT}-check@r2.service loaded deactivating stop\n",
    )
    done = switch(host)
    assert (done.returncode, done.stdout) == (0, "200\n"), done.stderr
    assert host.current() == "releases/r2"
    calls = host.calls()
    # The trial first, asked on its own probe socket until it answered 200.
    assert calls[1] == f"systemctl start {UNIT}-check@r2.service"
    asked = host.calls("curl")
    assert len(asked) == 2
    assert f"--unix-socket /run/{UNIT}-probe-r2.sock" in asked[0]
    assert "--header Host: notes.test" in asked[0]
    assert asked[0].endswith("http://localhost/healthz")
    assert f"systemctl stop --no-block {UNIT}-check@r2.service" in calls
    # Then the shared socket on its own, the release, and every other instance and probe socket.
    start_socket = calls.index(f"systemctl start {UNIT}.socket")
    assert calls[start_socket + 1] == f"systemctl start {UNIT}@r2.service"
    stopped = calls[-1].split()
    assert stopped[:3] == ["systemctl", "stop", "--no-block"]
    assert sorted(stopped[3:]) == sorted(
        [
            f"{UNIT}@r1.service",
            f"{UNIT}-probe@r1.socket",
            f"{UNIT}@r0.service",
            f"{UNIT}-probe@r0.socket",
            f"{UNIT}-check@r0.service",
        ]
    )


def test_an_unhealthy_release_never_serves(host):
    host.answer("codes", "502\n")
    done = switch(host, tries="3")
    # The code is the caller's to judge: the script says it and leaves everything as it was.
    assert (done.returncode, done.stdout) == (0, "502\n")
    assert len(host.calls("curl")) == 3
    assert host.current() == "releases/r1"
    assert f"systemctl stop --no-block {UNIT}-check@r2.service" in host.calls()
    assert not [call for call in host.calls() if call.startswith(f"systemctl start {UNIT}@")]


def test_a_trial_that_does_not_start_exits_10(host):
    host.answer("fail-start", f"{UNIT}-check@r2.service\n")
    done = switch(host)
    assert done.returncode == 10
    assert host.calls("curl") == []
    assert host.current() == "releases/r1"


def test_a_release_that_does_not_start_after_its_trial_exits_10(host):
    host.answer("codes", "200\n")
    host.answer("fail-start", f"{UNIT}@r2.service\n")
    done = switch(host)
    assert done.returncode == 10
    assert host.current() == "releases/r1"


def test_current_that_cannot_move_exits_11(host):
    host.answer("codes", "200\n")
    (host.dir / "current.new").mkdir()  # rm -f cannot remove a directory
    done = switch(host)
    assert done.returncode == 11
    assert host.current() == "releases/r1"


def test_an_instance_on_its_way_out_is_waited_for_before_the_start(host):
    host.answer("codes", "200\n")
    host.answer(f"active/{UNIT}@r2.service", "deactivating\n")
    assert switch(host).returncode == 0
    calls = host.calls()
    assert calls.index(f"systemctl stop {UNIT}@r2.service") < calls.index(
        f"systemctl start {UNIT}@r2.service"
    )


def test_back_puts_the_previous_release_back_before_stopping_the_new_one(host):
    (host.dir / "current").unlink()
    (host.dir / "current").symlink_to("releases/r2")
    done = host.run("back", UNIT, "r2", "r1", str(host.dir))
    assert done.returncode == 0, done.stderr
    assert host.current() == "releases/r1"
    assert host.calls()[-2:] == [
        f"systemctl start {UNIT}@r1.service",
        f"systemctl stop {UNIT}@r2.service {UNIT}-check@r2.service {UNIT}-probe@r2.socket",
    ]


def test_back_from_a_first_release_leaves_no_current(host):
    done = host.run("back", UNIT, "r2", "", str(host.dir))
    assert done.returncode == 0, done.stderr
    assert not (host.dir / "current").is_symlink()
    assert host.calls() == [
        f"systemctl stop {UNIT}@r2.service {UNIT}-check@r2.service {UNIT}-probe@r2.socket"
    ]


def test_prune_moves_releases_out_and_deletes_them_in_the_background(host):
    (host.dir / "releases" / "r0" / ".venv").mkdir(parents=True)
    (host.dir / "trash" / "left-by-a-killed-run").mkdir(parents=True)
    done = host.run("prune", UNIT, str(host.dir), "r0", "r2")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (host.dir / "releases").iterdir()) == ["r1"]
    assert list((host.dir / "trash").iterdir()) == []
    [run] = host.calls("systemd-run")
    assert f"--unit={UNIT}-prune-" in run
    assert "--property=IOSchedulingClass=idle" in run


@pytest.mark.parametrize(
    "args",
    [(), ("remove",), ("switch", UNIT, "r2"), ("back", UNIT), ("prune", UNIT, "/srv/notes")],
)
def test_wrong_arguments_say_the_usage_and_touch_nothing(host, args):
    done = host.run(*args)
    assert done.returncode == 2
    assert "usage:" in done.stderr
    assert host.calls() == []
    assert host.current() == "releases/r1"


def test_record_adds_a_release_that_went_live_to_the_history_and_a_line_to_the_audit_log(host):
    history, audit = host.dir / "history", host.dir / "audit.jsonl"
    line = '{"action": "deploy", "cause": "it\'s $HOME and `id`"}'
    done = host.run("record", str(history), str(audit), line, "r2")
    assert done.returncode == 0, done.stderr
    assert history.read_text() == "r2\n"
    assert audit.read_text() == line + "\n"
    assert oct(audit.stat().st_mode & 0o777) == "0o640"
    # A deploy that never went live: the audit line only.
    assert host.run("record", str(history), str(audit), '{"result": "failed"}').returncode == 0
    assert history.read_text() == "r2\n"
    assert audit.read_text().splitlines() == [line, '{"result": "failed"}']
