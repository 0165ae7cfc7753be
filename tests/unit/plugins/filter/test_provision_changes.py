"""The collection's filter djops.django.provision_changes, imported by path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

FILTER = Path(__file__).resolve().parents[4] / "plugins" / "filter" / "provision_changes.py"


def _load():
    spec = importlib.util.spec_from_file_location("provision_changes", FILTER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()["provision_changes"]


provision_changes = _load()

WANTED = {
    "appserver": "gunicorn",
    "domains": ["notes.test", "www.notes.test"],
    "python": "3.12",
    "services": ["postgres", "redis"],
    "system_packages": [],
    "tls": "acme",
}


def test_nothing_changed_gives_no_line() -> None:
    recorded = {**WANTED, "domains": ["www.notes.test", "notes.test"]}
    assert provision_changes(WANTED, recorded) == []


def test_each_change_is_named_with_both_values() -> None:
    recorded = {
        **WANTED,
        "appserver": "uwsgi",
        "services": ["postgres"],
        "python": "",
        "system_packages": ["libpq-dev"],
    }
    assert provision_changes(WANTED, recorded) == [
        "appserver changed from uwsgi to gunicorn",
        "python changed from (none) to 3.12",
        "services changed from [postgres] to [postgres, redis]",
        "system_packages changed from [libpq-dev] to []",
    ]


@pytest.mark.parametrize("recorded", [None, ""])
def test_no_record_asks_nothing(recorded) -> None:
    assert provision_changes(WANTED, recorded) == []


def test_settings_the_record_does_not_have_are_not_compared() -> None:
    assert provision_changes(WANTED, {"appserver": "gunicorn"}) == []
    assert provision_changes({"appserver": "uwsgi"}, {"appserver": "gunicorn", "tls": "x"}) == [
        "appserver changed from gunicorn to uwsgi"
    ]


def test_a_broken_record_says_to_provision_again() -> None:
    with pytest.raises(AnsibleFilterError, match="provision the host again"):
        provision_changes(WANTED, ["appserver"])


def test_wanted_must_be_a_mapping() -> None:
    with pytest.raises(AnsibleFilterError, match="expected a mapping"):
        provision_changes(["appserver"], {})
