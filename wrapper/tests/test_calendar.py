"""Calendar expressions of schedule: systemd-analyze's verdict, and the check used without it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from djops.config import calendar

CASES = {
    "daily": True,
    "hourly": True,
    "quarterly": True,
    "daily UTC": True,
    "weekly Europe/Berlin": True,
    "Mon": True,
    "Mon..Fri": True,
    "Monday..Friday": True,
    "Mon *-*-* 06:00": True,
    "Mon..Fri *-*-* 06:30": True,
    "Sat,Sun 10:00": True,
    "monday 10:00": True,
    "*:0/15": True,
    "*:*:0/10": True,
    "0/5:00": True,
    "*:00,30": True,
    "12:00": True,
    "2026-12-24 18:00": True,
    "2026-1-1": True,
    "*-02-29": True,
    "*-*~01 00:00": True,
    "*-*-1/7 09:00": True,
    "*-1..3-1 00:00": True,
    "03-15 09:00": True,
    "*-*-31 23:59:59": True,
    "Mon 06:00:00.5": True,
    "*-*-* 12:00 UTC": True,
    "Mon,Wed *-*-* 1:00 UTC": True,
    "": False,
    "UTC": False,
    "tomorrow": False,
    "every day": False,
    "hourly daily": False,
    "minutely Mon": False,
    "Mon Tue": False,
    "Mon..Fri..Sat": False,
    "06:00 Mon": False,
    "Mon *-*-* 25:00": False,
    "*-*-* 24:00": False,
    "*-*-* 23:60": False,
    "*-13-01": False,
    "1:2:3:4": False,
    "* *-*-* *:*:*": False,
    "*:*/15": False,
    "*/2:00": False,
}


@pytest.mark.parametrize(("expression", "valid"), CASES.items(), ids=list(CASES))
def test_the_grammar_check_agrees_with_systemd(expression, valid):
    assert calendar.grammar_accepts(expression) is valid
    if shutil.which("systemd-analyze"):
        real = subprocess.run(
            ["systemd-analyze", "calendar", expression], capture_output=True, check=False
        )
        assert (real.returncode == 0) is valid


@pytest.mark.parametrize("analyze", [True, False], ids=["systemd-analyze", "grammar"])
def test_a_problem_names_the_expression_and_the_forms(analyze, monkeypatch):
    if analyze and not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze on this machine")
    if not analyze:
        monkeypatch.setattr(calendar.shutil, "which", lambda name: None)
    assert calendar.calendar_problem("Mon..Fri 06:30") is None
    problem = calendar.calendar_problem("every monday")
    assert problem.startswith("'every monday' is not a systemd calendar expression; write e.g.")
    assert calendar.calendar_problem(" ").startswith("is empty")


def test_a_misspelt_shorthand_gets_a_suggestion():
    assert "(did you mean 'daily'?)" in calendar.calendar_problem("dayly")
    assert "did you mean" not in calendar.calendar_problem("Mon 25:00")
