"""systemd calendar expressions (OnCalendar=), as the schedule: of deploy/djops.yml gives them.

`calendar_problem` says why an expression is not one, or None. It asks `systemd-analyze calendar`
when this machine has it (the servers' own parser, so it is exact); elsewhere (macOS, a container
without systemd) it checks the grammar of systemd.time(7) itself: the shorthands (daily, hourly,
…) and ``[WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:SECOND]] [TIMEZONE]``, with lists (``,``),
ranges (``..``) and repetitions (``/``). The servers check each expression again when they are
provisioned.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from djops.config.problems import _suggest

SHORTHANDS = frozenset(
    {
        "minutely",
        "hourly",
        "daily",
        "monthly",
        "weekly",
        "yearly",
        "annually",
        "quarterly",
        "semiannually",
    }
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {d: d for d in _DAYS} | {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_VALUE_RE = re.compile(r"(\*|\d+(?:\.\d+)?)(?:\.\.(\d+(?:\.\d+)?))?(?:/(\d+(?:\.\d+)?))?")
_TIMEZONE_RE = re.compile(r"UTC|[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+")


def calendar_problem(expression: str) -> str | None:
    """Why `expression` is no systemd calendar expression, or None when it is one."""
    if not expression.strip():
        return "is empty; give a systemd calendar expression, e.g. 'daily' or 'Mon *-*-* 06:00'"
    if "\n" in expression or "\0" in expression:
        return "must be one line"
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        try:
            result = subprocess.run(
                [analyze, "calendar", "--iterations=1", expression],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass
        else:
            return None if result.returncode == 0 else _refused(expression)
    return None if grammar_accepts(expression) else _refused(expression)


def _refused(expression: str) -> str:
    words = expression.split()
    close = _suggest(words[0], sorted(SHORTHANDS)) if len(words) == 1 else None
    hint = f" (did you mean {close!r}?)" if close else ""
    return (
        f"{expression!r} is not a systemd calendar expression{hint}; write e.g. 'daily', "
        "'hourly', '*:0/15' (every 15 minutes) or 'Mon..Fri *-*-* 06:30' (see `man systemd.time`)"
    )


def _values(text: str, low: int, high: int) -> bool:
    """A component: values, ranges and repetitions, comma-separated, within low..high."""
    for item in text.split(","):
        match = _VALUE_RE.fullmatch(item)
        if not match:
            return False
        start, end, step = match.groups()
        if start == "*" and (end is not None or step is not None):
            return False  # '*/15' is not systemd's: it writes '0/15'
        for number in (start, end):
            if number not in (None, "*") and not low <= float(number) <= high:
                return False
    return True


def _weekdays(text: str) -> bool:
    for item in text.split(","):
        ends = item.lower().split("..")
        if len(ends) > 2 or not all(end in _DAY_NAMES for end in ends):
            return False
    return True


def _date(text: str) -> bool:
    day_sep = "~" if "~" in text else "-"
    head, sep, day = text.rpartition(day_sep)
    if not sep:
        return False
    parts = head.split("-")
    if len(parts) == 1:
        month = parts[0]
        return _values(month, 1, 12) and _values(day, 1, 31)
    if len(parts) == 2:
        year, month = parts
        return _values(year, 1970, 2199) and _values(month, 1, 12) and _values(day, 1, 31)
    return False


def _time(text: str) -> bool:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        return False
    hour, minute = parts[0], parts[1]
    second = parts[2] if len(parts) == 3 else "0"
    return _values(hour, 0, 23) and _values(minute, 0, 59) and _values(second, 0, 60)


def grammar_accepts(expression: str) -> bool:
    """systemd.time(7)'s calendar grammar, checked without systemd."""
    words = expression.split()
    if len(words) > 1 and _TIMEZONE_RE.fullmatch(words[-1]) and not _weekdays(words[-1]):
        words = words[:-1]
    if len(words) == 1 and words[0].lower() in SHORTHANDS:
        return True
    if not words:
        return False
    if _weekdays(words[0]):
        words = words[1:]
        if not words:
            return True
    if words and ("-" in words[0] or "~" in words[0]) and ":" not in words[0]:
        if not _date(words[0]):
            return False
        words = words[1:]
    if words and ":" in words[0]:
        if not _time(words[0]):
            return False
        words = words[1:]
    return not words
