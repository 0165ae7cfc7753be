"""The deploy lock of an app: one deploy or rollback at a time, safe against races.

The lock file names its holder (user, controller, pid, release, since) and a token unique to
the run. Its modification time is the holder's last sign of life: every step of the run
refreshes it (`hold`), so a lock counts as stale only when nothing touched it for
--stale-after seconds, judged by this host's clock alone. Every change to the lock (take,
take over, refresh, release) happens under an flock on the lock's directory and compares the
token first: two waiting runs cannot both win, and no run removes or refreshes a lock that is
not its own.

Usage (run on the host as `python3 -c "$(cat lock.py)" ACTION ...`, or as a file):
  lock.py take LOCK --holder JSON --stale-after S [--if-exists PATH] [-- CMD ...]
      take the lock when it is free; print one JSON line {"taken", "holder"} (holder: the
      other run holding it, with "idle" seconds and "stale"), then run CMD (exit code: CMD's)
  lock.py look LOCK --stale-after S [-- CMD ...]
      the same report without taking anything
  lock.py take-over LOCK --holder JSON --replace TOKEN --stale-after S [--force | --holder-gone] [--app NAME]
      replace the lock of the run with TOKEN, when that run still holds it and its lock is
      stale (or --force, or --holder-gone: the controller saw its process is gone); print
      {"taken": true, "replaced": holder}; exit 75 naming the holder otherwise
  lock.py hold LOCK TOKEN --stale-after S -- CMD ...
      refresh the lock if it is still this run's, then run CMD refreshing it every S/6 seconds
      and once more at the end; exit 75 without running CMD when the lock is someone else's
  lock.py release LOCK TOKEN [-- CMD ...]
      run CMD, then remove the lock if it is still this run's (exit code: CMD's)
  lock.py judge --holder JSON --me JSON [--force] [--app NAME]
      on the controller: whether the lock of the other run (as take reported it) may be taken
      over; print {"take_over", "gone", "message"}. Never while the holder's process runs on
      this controller, however old its lock, unless --force.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOST = 75  # EX_TEMPFAIL: the lock is someone else's; nothing was done
UNKNOWN_HOLDER = {"user": "?", "controller": "?", "pid": 0, "release": "?", "since": "?"}


@contextmanager
def guarded(lock: Path) -> Iterator[None]:
    """Hold an exclusive flock on the lock's directory: every change to the lock is under it."""
    fd = os.open(lock.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read(lock: Path, stale_after: float = 0) -> dict[str, Any] | None:
    """The holder named in the lock, with "idle" and "stale"; None when there is no lock.

    A lock that cannot be parsed (a run killed while an older djops wrote it) still blocks, as
    one of unknown origin with an empty token.
    """
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        idle = max(0.0, time.time() - os.fstat(fd).st_mtime)
        try:
            holder = json.loads(f.read())
        except ValueError:
            holder = None
    if not isinstance(holder, dict):
        holder = dict(UNKNOWN_HOLDER)
    holder["token"] = str(holder.get("token", ""))
    holder["idle"] = int(idle)
    holder["stale"] = idle > stale_after
    return holder


def describe(holder: dict[str, Any]) -> str:
    """alice@laptop (pid 4242, release r1a2b…) since …, last refreshed 12 s ago."""
    return (
        f"{holder.get('user', '?')}@{holder.get('controller', '?')} (pid {holder.get('pid', '?')},"
        f" release {holder.get('release', '?')}) since {holder.get('since', '?')},"
        f" last refreshed {holder.get('idle', '?')} s ago"
    )


def _write(lock: Path, holder: dict[str, Any], *, replace: bool) -> bool:
    """Write the lock whole, then put it in place: a reader never sees half a lock."""
    record = {k: v for k, v in holder.items() if k not in ("idle", "stale")}
    tmp = lock.with_name(f".{lock.name}.{record['token']}")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    tmp.chmod(0o644)
    try:
        if replace:
            os.replace(tmp, lock)
        else:
            os.link(tmp, lock)  # fails when a lock exists
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def take(lock: Path, me: dict[str, Any], stale_after: float) -> dict[str, Any]:
    """Take the lock if it is free (or already ours); otherwise report who holds it."""
    with guarded(lock):
        holder = read(lock, stale_after)
        if holder is None and _write(lock, me, replace=False):
            return {"taken": True, "holder": None}
        if holder is not None and holder["token"] == me["token"]:
            os.utime(lock)
            return {"taken": True, "holder": None}
        return {"taken": False, "holder": holder}


def take_over(
    lock: Path, me: dict[str, Any], replace: str, stale_after: float, *, unconditional: bool
) -> tuple[bool, dict[str, Any] | None]:
    """Replace the lock of the run holding `replace`, if it still does and its lock is stale.

    Under the flock, so of two runs taking over the same stale lock only the first does: the
    second finds the first's token and is refused. (True, replaced holder) or (False, holder).
    """
    with guarded(lock):
        holder = read(lock, stale_after)
        if holder is None:
            return _write(lock, me, replace=False), None
        if holder["token"] != replace or not (unconditional or holder["stale"]):
            return False, holder
        _write(lock, me, replace=True)
        return True, holder


def refresh(lock: Path, token: str) -> dict[str, Any] | None:
    """Touch the lock if it holds `token`; otherwise return the lock's holder (or {})."""
    with guarded(lock):
        holder = read(lock)
        if holder is None or holder["token"] != token:
            return holder or {}
        os.utime(lock)
        return None


def release(lock: Path, token: str) -> dict[str, Any] | None:
    """Remove the lock if it holds `token`; otherwise leave it and return its holder."""
    with guarded(lock):
        holder = read(lock)
        if holder is None:
            return None
        if holder["token"] != token:
            return holder
        lock.unlink()
        return None


def running_here(holder: dict[str, Any], me: dict[str, Any]) -> bool | None:
    """Whether the holder's process still runs on this controller; None: not this controller's."""
    pid = int(holder.get("pid") or 0)
    if holder.get("controller") != me.get("controller") or pid <= 0:
        return None
    # ps, not kill -0: kill -0 also fails (EPERM) for a live process of another user.
    ps = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, check=False)
    if ps.returncode != 0:
        return False
    # With its start time: a later process that got the same pid is not the holder. Compared
    # word by word: ps pads the day of the month, the lock may hold it unpadded.
    started = str(holder.get("pid_started") or "").split()
    return not started or ps.stdout.split() == started


def judge(holder: dict[str, Any], me: dict[str, Any], app: str, *, force: bool) -> dict[str, Any]:
    """Whether to take over the lock of another run, and the words for it."""
    here = running_here(holder, me)
    if force:
        return {
            "take_over": True,
            "gone": False,
            "message": f"taking over the forcibly unlocked lock of {describe(holder)}",
        }
    if here is False:
        message = (
            f"taking over the stale lock of {describe(holder)}: its process is gone from this controller"
        )
        return {"take_over": True, "gone": True, "message": message}
    if holder.get("stale") and not here:
        return {
            "take_over": True,
            "gone": False,
            "message": f"taking over the stale lock of {describe(holder)}",
        }
    why = "; its process still runs on this controller" if here else ""
    message = (
        f"another deploy of {app} holds the lock: {describe(holder)}{why}; wait for it, or use"
        " --force-unlock (app_force_unlock=true) once you are sure that run is gone"
    )
    return {"take_over": False, "gone": False, "message": message}


def _lost(holder: dict[str, Any]) -> str:
    if not holder:
        return "this run no longer holds the deploy lock: it was removed; stopping here"
    return f"this run no longer holds the deploy lock: {describe(holder)} holds it; stopping here"


def hold(lock: Path, token: str, stale_after: float, command: list[str]) -> int:
    """Run `command` as this run's step, keeping the lock fresh while it runs."""
    lost = refresh(lock, token)
    if lost is not None:
        print(_lost(lost), file=sys.stderr)
        return LOST
    child = subprocess.Popen(command)
    every = max(0.2, stale_after / 6)
    while True:
        try:
            code = child.wait(timeout=every)
            break
        except subprocess.TimeoutExpired:
            if refresh(lock, token) is not None:
                every = 3600.0  # someone else's now: keep out of it, let the step finish
    refresh(lock, token)
    return code


def _run(command: list[str]) -> int:
    sys.stdout.flush()
    return subprocess.run(command, check=False).returncode if command else 0


def main(argv: list[str]) -> int:
    command: list[str] = []
    if "--" in argv:
        command = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(prog="lock.py")
    parser.add_argument("action", choices=["take", "look", "take-over", "hold", "release", "judge"])
    parser.add_argument("lock", type=Path, nargs="?")
    parser.add_argument("token", nargs="?", default="")
    parser.add_argument("--holder", type=json.loads, default=None)
    parser.add_argument("--me", type=json.loads, default=None)
    parser.add_argument("--app", default="the app")
    parser.add_argument("--stale-after", type=float, default=1800)
    parser.add_argument("--if-exists", type=Path, default=None)
    parser.add_argument("--replace", default=None)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--holder-gone", action="store_true")
    args = parser.parse_args(argv)

    if args.action == "judge":
        print(json.dumps(judge(args.holder, args.me, args.app, force=args.force)))
        return 0
    if args.lock is None:
        parser.error(f"{args.action} needs the lock's path")

    if args.action in ("take", "look"):
        # Only for an app whose server was set up: a run that stops on a missing app server
        # must not leave a lock behind.
        if args.action == "take" and (args.if_exists is None or args.if_exists.exists()):
            report = take(args.lock, args.holder, args.stale_after)
        else:
            report = {"taken": False, "holder": read(args.lock, args.stale_after)}
        print(json.dumps(report))
        return _run(command)

    if args.action == "take-over":
        taken, holder = take_over(
            args.lock,
            args.holder,
            args.replace or "",
            args.stale_after,
            unconditional=args.force or args.holder_gone,
        )
        if not taken:
            if holder is None:
                print("the deploy lock could not be taken", file=sys.stderr)
            elif holder["token"] != args.replace:
                print(
                    f"another deploy of {args.app} took the lock a moment ago: {describe(holder)}",
                    file=sys.stderr,
                )
            else:
                print(
                    f"another deploy of {args.app} holds the lock, refreshed again: {describe(holder)}",
                    file=sys.stderr,
                )
            return LOST
        print(json.dumps({"taken": True, "replaced": holder}))
        return 0

    if args.action == "hold":
        return hold(args.lock, args.token, args.stale_after, command)

    code = _run(command)
    other = release(args.lock, args.token)
    if other is not None:
        print(f"the deploy lock is not this run's, left in place: {describe(other)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
