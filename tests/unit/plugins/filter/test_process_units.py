"""The collection's filter djops.django.process_units, imported by path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

FILTER = Path(__file__).resolve().parents[4] / "plugins" / "filter" / "process_units.py"


def _load():
    spec = importlib.util.spec_from_file_location("process_units", FILTER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


process_units = _load()["process_units"]
schedule_units = _load()["schedule_units"]

WORKER = {"name": "worker", "command": ["celery", "-A", "proj", "worker"], "instances": 2}
BEAT = {"name": "beat", "command": ["celery", "-A", "proj", "beat"], "singleton": True}


def test_one_unit_per_instance_with_defaults():
    units = process_units([WORKER, BEAT], "notes")
    assert [u["unit"] for u in units] == [
        "djops-notes-worker-1",
        "djops-notes-worker-2",
        "djops-notes-beat-1",
    ]
    assert [u["instance"] for u in units] == [1, 2, 1]
    assert units[0]["exec_start"] == '"celery" "-A" "proj" "worker"'
    assert {u["stop_timeout"] for u in units} == {30}


def test_singletons_stay_off_the_other_hosts():
    assert [u["process"] for u in process_units([WORKER, BEAT], "notes", False)] == [
        "worker",
        "worker",
    ]


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("$HOME", '"$$HOME"'),
        ("${HOME}", '"$${HOME}"'),
        ("%h", '"%%h"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
    ],
)
def test_arguments_reach_the_process_as_written(arg, quoted):
    command = ["python", arg]
    [unit] = process_units([{"name": "loop", "command": command}], "notes")
    assert unit["exec_start"] == f'"python" {quoted}'


@pytest.mark.parametrize(
    ("process", "message"),
    [
        ({"name": "Worker", "command": ["x"]}, "'Worker' is not a valid process name"),
        ({"name": "my-worker", "command": ["x"]}, "'my-worker' is not a valid process name"),
        ({"name": "w", "command": []}, "the command of process 'w'"),
        ({"name": "w", "command": "celery worker"}, "the command of process 'w'"),
        ({"name": "w", "command": [""]}, "the command of process 'w'"),
        ({"name": "w", "command": ["x"], "instances": 0}, "instances of process 'w'"),
        ({"name": "w", "command": ["x"], "instances": True}, "instances of process 'w'"),
        ({"name": "w", "command": ["x"], "stop_timeout": 0}, "stop_timeout of process 'w'"),
        ({"name": "w", "command": ["a\nb"]}, "line break"),
        ("worker", "is not a process"),
    ],
)
def test_bad_processes_are_named(process, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(")):
        process_units([process], "notes")


def test_a_name_given_twice_is_refused():
    with pytest.raises(AnsibleFilterError, match="process_units: two entries are named 'worker'"):
        process_units([WORKER, WORKER], "notes")


def test_a_job_is_a_timer_and_a_service_with_its_calendar():
    jobs = [
        {
            "name": "clearsessions",
            "command": ["python", "manage.py", "clearsessions"],
            "calendar": "daily",
        },
        {
            "name": "report",
            "command": ["python", "report.py", "50%"],
            "calendar": "Mon 06:00",
            "timeout": 60,
        },
    ]
    assert schedule_units(jobs, "notes") == [
        {
            "unit": "djops-notes-job-clearsessions",
            "job": "clearsessions",
            "exec_start": '"python" "manage.py" "clearsessions"',
            "calendar": "daily",
            "timeout": 3600,
        },
        {
            "unit": "djops-notes-job-report",
            "job": "report",
            "exec_start": '"python" "report.py" "50%%"',
            "calendar": "Mon 06:00",
            "timeout": 60,
        },
    ]


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"name": "r", "command": ["x"]}, "the calendar of job 'r'"),
        (
            {"name": "r", "command": ["x"], "calendar": "daily\nOnCalendar=hourly"},
            "the calendar of job 'r'",
        ),
        ({"name": "r", "command": [], "calendar": "daily"}, "the command of job 'r'"),
        ({"name": "r", "command": ["x"], "calendar": "daily", "timeout": 0}, "timeout of job 'r'"),
        ({"name": "R", "command": ["x"], "calendar": "daily"}, "'R' is not a valid job name"),
    ],
)
def test_bad_jobs_are_named(job, message):
    with pytest.raises(AnsibleFilterError, match=message):
        schedule_units([job], "notes")
