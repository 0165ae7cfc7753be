"""The app role's deploy lock (roles/app/files/lock.py), run as the role runs it, for real.

Every race here is between real processes started at the same instant on a temporary lock
directory: of two (here eight) runs taking a free lock, or taking over the same stale lock,
exactly one wins; a lock whose process still runs on this controller is never taken over;
only the holder's token releases or refreshes a lock; a refresh makes the lock young again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

LOCK_PY = Path(__file__).resolve().parents[2] / "roles" / "app" / "files" / "lock.py"
RACERS = 8
ROUNDS = 4
# Each racer waits for the same instant, then runs lock.py as `python3 -c` runs it on a host.
AT_ONCE = (
    "import runpy, sys, time\n"
    "start = float(sys.argv[1])\n"
    "time.sleep(max(0.0, start - time.time()))\n"
    "sys.argv = [sys.argv[2]] + sys.argv[3:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def holder(token: str, **extra) -> dict:
    return {
        "token": token,
        "user": "alice",
        "controller": "laptop-of-alice",
        "pid": 4242,
        "release": f"r-{token}",
        "since": "2026-01-01T00:00:00Z",
        **extra,
    }


def lock_py(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(LOCK_PY), *args], capture_output=True, text=True, check=check
    )


def race(argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Run lock.py once per argv, all starting at the same instant; their results, in order."""
    start = time.time() + 1.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", AT_ONCE, repr(start), str(LOCK_PY), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    results = []
    for argv, proc in zip(argvs, procs, strict=True):
        out, err = proc.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return results


def on_disk(lock: Path) -> dict:
    return json.loads(lock.read_text())


def leave_lock(lock: Path, record: dict, age: float) -> None:
    lock.write_text(json.dumps(record) + "\n")
    then = time.time() - age
    os.utime(lock, (then, then))


def look(lock: Path, stale_after: float) -> dict:
    result = lock_py("look", str(lock), "--stale-after", str(stale_after), check=True)
    return json.loads(result.stdout.splitlines()[0])["holder"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_of_runs_taking_a_free_lock_at_once_exactly_one_wins(tmp_path, round_):
    lock = tmp_path / "deploy.lock"
    results = race(
        [
            ["take", str(lock), "--holder", json.dumps(holder(f"t{i}")), "--stale-after", "60"]
            for i in range(RACERS)
        ]
    )
    reports = [json.loads(r.stdout.splitlines()[0]) for r in results]
    winners = [i for i, report in enumerate(reports) if report["taken"]]
    assert len(winners) == 1, reports
    assert on_disk(lock)["token"] == f"t{winners[0]}"
    # Every loser was told who holds it, and not that it is stale.
    for report in reports:
        if not report["taken"]:
            assert report["holder"]["token"] == f"t{winners[0]}"
            assert report["holder"]["stale"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy.lock"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_of_runs_taking_over_the_same_stale_lock_at_once_exactly_one_wins(tmp_path, round_):
    lock = tmp_path / "deploy.lock"
    leave_lock(lock, holder("old"), age=3600)
    stale = look(lock, stale_after=60)
    assert stale["stale"] is True
    results = race(
        [
            [
                "take-over",
                str(lock),
                "--holder",
                json.dumps(holder(f"t{i}")),
                "--replace",
                stale["token"],
                "--stale-after",
                "60",
                "--app",
                "notes",
            ]
            for i in range(RACERS)
        ]
    )
    winners = [i for i, r in enumerate(results) if r.returncode == 0]
    assert len(winners) == 1, [(r.returncode, r.stdout, r.stderr) for r in results]
    winner = winners[0]
    assert on_disk(lock)["token"] == f"t{winner}"
    assert json.loads(results[winner].stdout)["replaced"]["token"] == "old"
    for i, result in enumerate(results):
        if i != winner:
            assert result.returncode == 75
            assert "another deploy of notes took the lock a moment ago: alice@laptop-of-alice" in (
                result.stderr
            )
            assert f"release r-t{winner}" in result.stderr


def test_a_second_run_that_judged_the_same_lock_stale_is_refused(tmp_path):
    """Both runs saw the stale lock of "old"; the first replaced it: the second must not."""
    lock = tmp_path / "deploy.lock"
    leave_lock(lock, holder("old"), age=3600)
    stale = look(lock, stale_after=60)

    def take_over(token: str) -> subprocess.CompletedProcess:
        return lock_py(
            "take-over", str(lock), "--holder", json.dumps(holder(token)), "--replace",
            stale["token"], "--stale-after", "60", "--app", "notes",
        )  # fmt: skip

    assert take_over("first").returncode == 0
    second = take_over("second")
    assert second.returncode == 75
    assert "another deploy of notes took the lock a moment ago" in second.stderr
    assert "release r-first" in second.stderr
    assert on_disk(lock)["token"] == "first"


def test_a_refreshed_lock_is_not_taken_over(tmp_path):
    lock = tmp_path / "deploy.lock"
    leave_lock(lock, holder("old"), age=3600)
    assert look(lock, stale_after=60)["stale"] is True
    # The holder's next step refreshes the lock before the takeover lands.
    lock_py("hold", str(lock), "old", "--stale-after", "60", "--", "true", check=True)
    result = lock_py(
        "take-over", str(lock), "--holder", json.dumps(holder("new")), "--replace", "old",
        "--stale-after", "60", "--app", "notes",
    )  # fmt: skip
    assert result.returncode == 75
    assert "another deploy of notes holds the lock, refreshed again" in result.stderr
    assert on_disk(lock)["token"] == "old"


def _started(pid: int) -> str:
    """The start time as served.yml records it: ps's words, single-spaced."""
    return " ".join(
        subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, check=True
        ).stdout.split()
    )


@pytest.mark.parametrize(
    "with_start_time",
    ["as recorded", "spaced otherwise", None],
    ids=["pid+start", "spacing", "pid"],
)
def test_a_lock_whose_process_runs_on_this_controller_is_never_taken_over(
    tmp_path, with_start_time
):
    lock = tmp_path / "deploy.lock"
    me = holder("mine", controller=socket.gethostname(), pid=os.getpid())
    deploy = subprocess.Popen(["sleep", "120"])
    try:
        record = holder("theirs", controller=socket.gethostname(), pid=deploy.pid)
        if with_start_time:
            record["pid_started"] = _started(deploy.pid)
        if with_start_time == "spaced otherwise":  # ps pads a day of the month below 10
            record["pid_started"] = record["pid_started"].replace(" ", "  ")
        leave_lock(lock, record, age=7 * 24 * 3600)  # a week old
        theirs = look(lock, stale_after=60)
        assert theirs["stale"] is True
        verdict = json.loads(
            lock_py(
                "judge", "--holder", json.dumps(theirs), "--me", json.dumps(me), "--app", "notes",
                check=True,
            ).stdout
        )  # fmt: skip
        assert verdict["take_over"] is False
        assert verdict["message"].startswith(
            f"another deploy of notes holds the lock: alice@{socket.gethostname()} "
            f"(pid {deploy.pid}, release r-theirs)"
        )
        assert "its process still runs on this controller" in verdict["message"]
    finally:
        deploy.kill()
        deploy.wait()
    # Once that process is gone, the same lock is taken over (the holder is gone, whatever its age).
    leave_lock(lock, record, age=5)
    theirs = look(lock, stale_after=60)
    verdict = json.loads(
        lock_py("judge", "--holder", json.dumps(theirs), "--me", json.dumps(me), check=True).stdout
    )
    assert verdict["take_over"] is True and verdict["gone"] is True
    assert verdict["message"].startswith("taking over the stale lock of alice@")


def test_a_pid_taken_by_a_later_process_does_not_keep_the_lock(tmp_path):
    me = holder("mine", controller=socket.gethostname(), pid=os.getpid())
    record = holder(
        "theirs",
        controller=socket.gethostname(),
        pid=os.getpid(),  # alive, but started at another time than the lock says
        pid_started="Thu Jan  1 00:00:00 1970",
        idle=10,
        stale=False,
    )
    verdict = json.loads(
        lock_py("judge", "--holder", json.dumps(record), "--me", json.dumps(me), check=True).stdout
    )
    assert verdict == verdict | {"take_over": True, "gone": True}


def test_a_live_lock_of_another_controller_is_refused_until_stale_or_forced(tmp_path):
    me = holder("mine", controller="ci-runner", pid=os.getpid())
    record = holder("theirs", idle=30, stale=False)

    def judged(*extra: str) -> dict:
        return json.loads(
            lock_py(
                "judge", "--holder", json.dumps(record), "--me", json.dumps(me), "--app", "notes",
                *extra, check=True,
            ).stdout
        )  # fmt: skip

    assert judged()["take_over"] is False
    record["stale"] = True
    assert judged()["message"].startswith("taking over the stale lock of alice@laptop-of-alice")
    record["stale"] = False
    forced = judged("--force")
    assert forced["take_over"] is True
    assert forced["message"] == (
        "taking over the forcibly unlocked lock of alice@laptop-of-alice (pid 4242, release "
        "r-theirs) since 2026-01-01T00:00:00Z, last refreshed 30 s ago"
    )


def test_a_forced_takeover_replaces_a_fresh_lock_and_names_it(tmp_path):
    lock = tmp_path / "deploy.lock"
    leave_lock(lock, holder("theirs"), age=1)
    result = lock_py(
        "take-over", str(lock), "--holder", json.dumps(holder("mine")), "--replace", "theirs",
        "--stale-after", "60", "--force", check=True,
    )  # fmt: skip
    assert json.loads(result.stdout)["replaced"]["release"] == "r-theirs"
    assert on_disk(lock)["token"] == "mine"


def test_release_with_another_token_leaves_the_lock(tmp_path):
    lock = tmp_path / "deploy.lock"
    mine = holder("mine")
    take = lock_py("take", str(lock), "--holder", json.dumps(mine), "--stale-after", "60")
    assert json.loads(take.stdout)["taken"] is True

    other = lock_py("release", str(lock), "someone-else", check=True)
    assert on_disk(lock) == mine
    assert "the deploy lock is not this run's, left in place: alice@laptop-of-alice" in (
        other.stderr
    )

    lock_py("release", str(lock), "mine", check=True)
    assert not lock.exists()


def test_release_runs_its_command_first_and_keeps_its_exit_code(tmp_path):
    lock = tmp_path / "deploy.lock"
    lock_py("take", str(lock), "--holder", json.dumps(holder("mine")), check=True)
    result = lock_py(
        "release", str(lock), "mine", "--", "sh", "-c", "test -e $0 && exit 3", str(lock)
    )
    assert result.returncode == 3  # the command saw the lock still there
    assert not lock.exists()


def test_a_refresh_makes_the_lock_young_again(tmp_path):
    lock = tmp_path / "deploy.lock"
    leave_lock(lock, holder("mine"), age=600)
    assert look(lock, stale_after=60)["stale"] is True
    lock_py("hold", str(lock), "mine", "--stale-after", "60", "--", "true", check=True)
    refreshed = look(lock, stale_after=60)
    assert refreshed["stale"] is False and refreshed["idle"] <= 1


def test_a_long_step_keeps_the_lock_fresh_while_it_runs(tmp_path):
    lock = tmp_path / "deploy.lock"
    lock_py("take", str(lock), "--holder", json.dumps(holder("mine")), check=True)
    step = subprocess.Popen(
        [sys.executable, str(LOCK_PY), "hold", str(lock), "mine", "--stale-after", "1.2", "--",
         "sleep", "4"]
    )  # fmt: skip
    try:
        time.sleep(3)
        # 3 s into a step of a run whose lock goes stale after 1.2 s without a refresh.
        assert look(lock, stale_after=1.2)["stale"] is False
        assert step.wait(timeout=10) == 0
    finally:
        step.kill()
    time.sleep(1.5)
    assert look(lock, stale_after=1.2)["stale"] is True  # nothing refreshes it between steps


def test_a_step_of_a_run_that_lost_the_lock_does_not_run(tmp_path):
    lock = tmp_path / "deploy.lock"
    marker = tmp_path / "ran"
    leave_lock(lock, holder("theirs"), age=0)
    result = lock_py("hold", str(lock), "mine", "--", "touch", str(marker))
    assert result.returncode == 75
    assert not marker.exists()
    assert result.stderr.startswith(
        "this run no longer holds the deploy lock: alice@laptop-of-alice (pid 4242, "
        "release r-theirs)"
    )
    before = lock.stat().st_mtime
    assert on_disk(lock)["token"] == "theirs" and lock.stat().st_mtime == before
    lock.unlink()
    assert lock_py("hold", str(lock), "mine", "--", "touch", str(marker)).returncode == 75
    assert not marker.exists()


def test_take_reports_an_unreadable_lock_as_held_by_an_unknown_run(tmp_path):
    lock = tmp_path / "deploy.lock"
    lock.write_text("{not json")
    report = json.loads(
        lock_py("take", str(lock), "--holder", json.dumps(holder("mine"))).stdout.splitlines()[0]
    )
    assert report["taken"] is False
    assert report["holder"]["user"] == "?" and report["holder"]["token"] == ""


def test_take_runs_the_state_read_after_taking_the_lock(tmp_path):
    lock = tmp_path / "deploy.lock"
    result = lock_py(
        "take", str(lock), "--holder", json.dumps(holder("mine")), "--", "cat", str(lock),
        check=True,
    )  # fmt: skip
    report, state = result.stdout.splitlines()
    assert json.loads(report) == {"taken": True, "holder": None}
    assert json.loads(state)["token"] == "mine"


def test_take_leaves_no_lock_for_an_app_without_its_server(tmp_path):
    lock = tmp_path / "deploy.lock"
    result = lock_py(
        "take", str(lock), "--holder", json.dumps(holder("mine")), "--if-exists",
        str(tmp_path / "missing-manage"), check=True,
    )  # fmt: skip
    assert json.loads(result.stdout) == {"taken": False, "holder": None}
    assert not lock.exists()


def _tasks(items: list) -> list[dict]:
    found = []
    for task in items or []:
        found.append(task)
        for key in ("block", "rescue", "always"):
            found.extend(_tasks(task.get(key, [])))
    return found


def test_every_command_that_changes_the_host_runs_under_the_lock():
    """A step of a deploy or rollback that changes the host refreshes the lock and refuses to
    run once the lock is someone else's: its argv starts with __app_hold (or, the last one,
    __app_release_lock). Read-only commands (changed_when: false) need not."""
    import yaml

    tasks_dir = LOCK_PY.parents[1] / "tasks"
    # What deploy.yml and rollback.yml run once they hold the lock.
    under_lock = ["build", "migrate", "switch", "prune", "hooks", "hook", "audit", "failed"]
    unguarded = []
    for path in (tasks_dir / f"{name}.yml" for name in under_lock):
        for task in _tasks(yaml.safe_load(path.read_text())):
            module = task.get("ansible.builtin.command") or task.get("ansible.builtin.shell")
            if module is None or task.get("changed_when") is False:
                continue
            if task.get("delegate_to") == "localhost":
                continue
            argv = str(module.get("argv", "")) if isinstance(module, dict) else ""
            if not argv.lstrip("{ (").startswith(("__app_hold", "__app_release_lock")):
                unguarded.append(f"{path.name}: {task.get('name')}")
    assert unguarded == []
