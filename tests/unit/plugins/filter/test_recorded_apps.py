"""The collection's filters djops.django.recorded_apps and djops.django.apps_record.

Roles postgres and redis record on the host the apps they set up and, with
<role>_apps_exclusive false, keep the recorded apps a run does not list. The plugin is imported
by path: it belongs to the collection, not to the CLI's package.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError

COLLECTION = Path(__file__).resolve().parents[4]
FILTER_DIR = COLLECTION / "plugins" / "filter"
RECORD = "/var/lib/djops/postgres/apps.json"


def _load_plugin():
    spec = importlib.util.spec_from_file_location("recorded_apps", FILTER_DIR / "recorded_apps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plugin = _load_plugin()
FILTERS = plugin.FilterModule().filters()
recorded_apps = FILTERS["recorded_apps"]
apps_record = FILTERS["apps_record"]


def slurped(text: str | bytes, source: str = RECORD) -> dict[str, Any]:
    """What ansible.builtin.slurp registers for a file holding ``text``."""
    data = text.encode() if isinstance(text, str) else text
    return {
        "changed": False,
        "content": base64.b64encode(data).decode(),
        "encoding": "base64",
        "source": source,
    }


def recorded(apps: list[dict[str, Any]]) -> dict[str, Any]:
    """A record as the roles write it (to_nice_json and a newline)."""
    return slurped(json.dumps(apps, indent=4, sort_keys=True) + "\n")


def failed_read(message: str) -> dict[str, Any]:
    """What slurp registers with failed_when: false when it cannot read the file."""
    return {
        "changed": False,
        "failed": False,
        "failed_when_result": False,
        "msg": message,
    }


SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
NOTES = {"name": "notes", "app_hosts": ["app1"], "connections": 10, "password": "s3cret"}
BLOG = {"name": "blog"}


# --- recorded_apps: what the role sets up ------------------------------------------------------


def test_exclusive_returns_the_listed_apps_as_given():
    apps = [NOTES, BLOG]
    assert recorded_apps(apps, recorded([{"name": "shop"}]), exclusive=True) == [NOTES, BLOG]


def test_exclusive_does_not_look_at_the_record():
    assert recorded_apps([NOTES], "not a slurp result", exclusive=True) == [NOTES]


def test_not_exclusive_keeps_recorded_apps_not_listed_sorted_by_name():
    record = recorded([{"name": "shop", "app_hosts": ["app2"]}, {"name": "about"}])
    assert recorded_apps([NOTES, BLOG], record, exclusive=False) == [
        {"name": "about"},
        BLOG,
        NOTES,
        {"name": "shop", "app_hosts": ["app2"]},
    ]


def test_a_listed_app_replaces_its_record():
    record = recorded([{"name": "notes", "app_hosts": ["old-app"], "connections": 50}])
    assert recorded_apps([NOTES], record, exclusive=False) == [NOTES]


def test_the_order_does_not_depend_on_who_runs_first():
    first = recorded_apps([{"name": "notes"}], recorded([{"name": "board"}]), exclusive=False)
    second = recorded_apps([{"name": "board"}], recorded([{"name": "notes"}]), exclusive=False)
    assert first == second == [{"name": "board"}, {"name": "notes"}]


@pytest.mark.parametrize(
    "result",
    [
        failed_read(f"File not found: {RECORD}"),  # ansible-core 2.19 and later
        failed_read(f"file not found: {RECORD}"),  # before
        SKIPPED,
        {},
    ],
    ids=["missing", "missing (ansible-core < 2.19)", "skipped", "not registered"],
)
def test_no_record_means_no_apps_recorded_yet(result):
    assert recorded_apps([NOTES, BLOG], result, exclusive=False) == [BLOG, NOTES]


def test_an_empty_record_keeps_nothing():
    assert recorded_apps([NOTES], recorded([]), exclusive=False) == [NOTES]


def test_no_apps_listed_keeps_the_recorded_ones():
    assert recorded_apps([], recorded([BLOG]), exclusive=False) == [BLOG]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", f"{RECORD} is corrupt (not JSON: Expecting value: line 1 column 1 (char 0))"),
        ('[{"name": "notes"}', f"{RECORD} is corrupt (not JSON: Expecting ',' delimiter"),
        (b"\xff\xfe[]", f"{RECORD} is corrupt (not JSON: 'utf-8' codec can't decode"),
        ('{"name": "notes"}', f"{RECORD} is corrupt (expected a list of apps, got dict)"),
        ('["notes"]', f"{RECORD} is corrupt (app 0 is a str, not a mapping)"),
        (
            '[{"name": "notes"}, {"app_hosts": []}]',
            f"{RECORD} is corrupt (app 1 has no name (it has app_hosts))",
        ),
        ('[{"name": ""}]', f"{RECORD} is corrupt (app 0 has no name (it has name))"),
        ('[{"name": 7}]', f"{RECORD} is corrupt (app 0 has no name (it has name))"),
        (
            '[{"name": "blog"}, {"name": "blog"}]',
            f"{RECORD} is corrupt (recorded more than once: blog)",
        ),
    ],
    ids=[
        "empty",
        "truncated",
        "not utf-8",
        "not a list",
        "not mappings",
        "no name",
        "empty name",
        "name not a string",
        "duplicate",
    ],
)
def test_a_corrupt_record_fails_naming_the_file(content, says):
    with pytest.raises(AnsibleFilterError) as exc_info:
        recorded_apps([NOTES], slurped(content), exclusive=False)
    message = exc_info.value.message
    assert message.startswith(says)
    assert message.endswith(
        "it names the apps set up earlier on this host, so that later runs keep them; repair it, "
        "or remove it and list every app of this host in the next run"
    )


def test_content_that_is_not_base64_is_corrupt():
    result = slurped("[]") | {"content": "not base64!"}
    with pytest.raises(AnsibleFilterError, match=f"^{RECORD} is corrupt \\(not JSON: "):
        recorded_apps([NOTES], result, exclusive=False)


@pytest.mark.parametrize(
    "message",
    [
        f"File is not readable: {RECORD}",
        f"Source is a directory and must be a file: {RECORD}",
        "Unable to slurp file: {source}",
    ],
)
def test_a_record_that_cannot_be_read_fails_rather_than_counting_as_empty(message):
    with pytest.raises(AnsibleFilterError) as exc_info:
        recorded_apps([NOTES], failed_read(message), exclusive=False)
    assert exc_info.value.message == (
        f"cannot read the record of the apps set up earlier: {message}"
    )


@pytest.mark.parametrize(
    ("apps", "says"),
    [
        ("notes", "recorded_apps: expected a list of apps, got str"),
        ({"name": "notes"}, "recorded_apps: expected a list of apps, got dict"),
        ([NOTES, "blog"], "recorded_apps: app 1 is a str, not a mapping"),
        # The keys, never the values: an app may carry a password.
        ([{"password": "s3cret"}], "recorded_apps: app 0 has no name (it has password)"),
        ([{}], "recorded_apps: app 0 has no name (it has no keys)"),
    ],
)
def test_bad_apps_are_refused(apps, says):
    with pytest.raises(AnsibleFilterError) as exc_info:
        recorded_apps(apps, {}, exclusive=False)
    assert exc_info.value.message == says
    assert "s3cret" not in exc_info.value.message


@pytest.mark.parametrize("exclusive", ["false", "no", 0, None])
def test_exclusive_must_be_a_boolean(exclusive):
    # A string "false" is true in a Jinja2 condition: taking it either way would be a guess.
    with pytest.raises(
        AnsibleFilterError, match=r"^recorded_apps: exclusive must be true or false"
    ):
        recorded_apps([NOTES], {}, exclusive=exclusive)


def test_the_record_must_be_a_slurp_result():
    with pytest.raises(AnsibleFilterError) as exc_info:
        recorded_apps([NOTES], "[]", exclusive=False)
    assert exc_info.value.message == (
        "recorded_apps: expected the registered result of ansible.builtin.slurp, got str"
    )


# --- apps_record: what the role writes ---------------------------------------------------------


def test_apps_record_keeps_only_the_keys_asked_for():
    apps = [NOTES, BLOG]
    assert apps_record(apps, ["name", "app_hosts", "connections"]) == [
        {"name": "notes", "app_hosts": ["app1"], "connections": 10},
        {"name": "blog"},
    ]
    assert NOTES["password"] == "s3cret", "the input is left alone"


def test_a_record_reads_back_as_what_was_set_up():
    apps = recorded_apps([NOTES, BLOG], {}, exclusive=False)
    record = recorded(apps_record(apps, ["name", "app_hosts", "connections"]))
    assert recorded_apps([], record, exclusive=False) == [
        {"name": "blog"},
        {"name": "notes", "app_hosts": ["app1"], "connections": 10},
    ]


@pytest.mark.parametrize(
    ("apps", "keys", "says"),
    [
        ("notes", ["name"], "apps_record: expected a list of apps, got str"),
        ([{"app_hosts": []}], ["name"], "apps_record: app 0 has no name (it has app_hosts)"),
        ([NOTES], "name", "apps_record: keys must be a list of key names, got 'name'"),
        ([NOTES], ["name", 1], "apps_record: keys must be a list of key names, got ['name', 1]"),
        ([NOTES], ["app_hosts"], "apps_record: keys must include 'name', which identifies an app"),
    ],
)
def test_apps_record_refuses_bad_input(apps, keys, says):
    with pytest.raises(AnsibleFilterError) as exc_info:
        apps_record(apps, keys)
    assert exc_info.value.message == says


# --- documentation -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_has_its_documentation(name):
    # ansible-doc reads a filter's documentation from the YAML file named after it.
    docs = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())
    assert docs["DOCUMENTATION"]["name"] == name
    assert docs["DOCUMENTATION"]["short_description"]
    assert f"djops.django.{name}" in docs["EXAMPLES"]
    assert docs["RETURN"]["_value"]["type"] == "list"
    options = docs["DOCUMENTATION"]["options"]
    positional = docs["DOCUMENTATION"]["positional"].replace(" ", "").split(",")
    assert set(options) == {"_input", *positional}


# --- redis_ports: the port of each app's own Redis ---------------------------------------------

redis_ports = FILTERS["redis_ports"]
MISSING = failed_read("file not found: /var/lib/djops/redis/apps.json")


def test_new_apps_get_ports_in_order_from_the_start():
    apps = [{"name": "notes"}, {"name": "blog"}]
    assert redis_ports(apps, MISSING, ["notes", "blog"], 6380) == [
        {"name": "notes", "port": 6380},
        {"name": "blog", "port": 6381},
    ]


def test_recorded_ports_are_kept_and_new_apps_take_the_lowest_free_one():
    record = recorded([{"name": "blog", "port": 6381}, {"name": "shop", "port": 6383}])
    apps = [{"name": "notes"}, {"name": "blog"}, {"name": "wiki"}, {"name": "shop"}]
    ports = redis_ports(apps, record, ["notes", "blog", "wiki", "shop"], 6380)
    assert [app["port"] for app in ports] == [6380, 6381, 6382, 6383]


def test_a_recorded_app_without_a_port_and_not_listed_stays_on_the_shared_server():
    # Recorded by an earlier version (no ports); only the listed app moves to its own Redis.
    record = recorded([{"name": "blog"}, {"name": "notes"}])
    apps = [{"name": "blog"}, {"name": "notes"}]
    assert redis_ports(apps, record, ["notes"], 6380) == [
        {"name": "blog"},
        {"name": "notes", "port": 6380},
    ]


def test_a_port_given_in_the_apps_is_not_trusted_over_the_record():
    record = recorded([{"name": "notes", "port": 6390}])
    assert redis_ports([{"name": "notes", "port": 1}], record, ["notes"], 6380) == [
        {"name": "notes", "port": 6390}
    ]


def test_redis_ports_keeps_the_other_keys_and_does_not_change_its_input():
    apps = [dict(NOTES)]
    assert redis_ports(apps, MISSING, ["notes"], 6380) == [{**NOTES, "port": 6380}]
    assert apps == [NOTES]


@pytest.mark.parametrize("start", [0, 80, 70000, "6380", True, None])
def test_redis_ports_refuses_a_bad_start(start):
    with pytest.raises(AnsibleFilterError, match="start must be a port"):
        redis_ports([BLOG], MISSING, ["blog"], start)


def test_redis_ports_names_a_corrupt_record():
    with pytest.raises(AnsibleFilterError, match="is corrupt"):
        redis_ports([BLOG], slurped("{"), ["blog"], 6380)
