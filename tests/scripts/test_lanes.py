"""scripts/lanes.py: which scenarios scripts/test runs on which release, and in which lane."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lanes.py"
MOLECULE = SCRIPT.parents[1] / "molecule"
spec = importlib.util.spec_from_file_location("lanes", SCRIPT)
assert spec and spec.loader
lanes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lanes)


def test_the_default_matrix_runs_every_scenario_on_the_newest_release():
    found = lanes.matrix({})
    assert found["ubuntu-26.04"] == list(lanes.SCENARIOS)
    assert found["debian-12"] == ["sandbox", "postgres", "redis", "app"]


def test_scenarios_named_alone_run_on_both_releases():
    # Naming only scenarios once ran them on no release at all.
    assert lanes.matrix({"DJOPS_SCENARIOS": "web app"}) == {
        "ubuntu-26.04": ["web", "app"],
        "debian-12": ["web", "app"],
    }


def test_releases_named_alone_run_every_scenario():
    found = lanes.matrix({"DJOPS_DISTROS": "debian-13"})
    assert found == {"debian-13": list(lanes.SCENARIOS)}


def test_each_scenario_stays_in_one_lane_and_every_run_is_planned():
    plan = lanes.plan(3, lanes.matrix({}))
    lane_of = {job: index for index, jobs in enumerate(plan) for job in jobs}
    for scenario in lanes.SCENARIOS:
        assert len({lane for job, lane in lane_of.items() if job.endswith(f":{scenario}")}) == 1
    assert sorted(lane_of) == sorted(
        f"{distro}:{name}" for distro, names in lanes.matrix({}).items() for name in names
    )


def test_grouped_scenarios_share_a_lane(monkeypatch):
    monkeypatch.setattr(lanes, "GROUP", {"stack": "app"})
    plan = lanes.plan(3, lanes.matrix({}))
    [lane] = [jobs for jobs in plan if "ubuntu-26.04:stack" in jobs]
    assert {"ubuntu-26.04:app", "debian-12:app"} <= set(lane)


def test_no_two_scenarios_share_a_host_name_or_domain_unless_grouped():
    # A sandbox host's name and aliases resolve on the whole machine: two scenarios running side
    # by side with the same name would each reach the other's host.
    owners: dict[str, set[str]] = {}
    for config in sorted(MOLECULE.glob("*/molecule.yml")):
        scenario = config.parent.name
        for platform in yaml.safe_load(config.read_text()).get("platforms", []):
            for name in [platform["name"], *platform.get("aliases", [])]:
                owners.setdefault(name, set()).add(lanes.GROUP.get(scenario, scenario))
    shared = {name: sorted(who) for name, who in owners.items() if len(who) > 1}
    assert shared == {}


def test_lanes_are_filled_longest_first_and_balanced():
    plan = lanes.plan(2, lanes.matrix({}))
    loads = [sum(lanes.cost(job.partition(":")[2]) for job in jobs) for jobs in plan]
    assert plan[0][:2] == ["ubuntu-26.04:app", "debian-12:app"]
    assert plan[1][0] == "ubuntu-26.04:stack"
    assert max(loads) - min(loads) <= max(lanes.COST.values())
    assert lanes.plan(1, {"debian-12": ["sandbox", "web"]}) == [
        ["debian-12:web", "debian-12:sandbox"]
    ]


def test_more_lanes_than_work_leaves_lanes_empty():
    assert lanes.plan(3, {"debian-12": ["web"]}) == [["debian-12:web"], [], []]


def test_the_command_line_prints_what_scripts_test_reads():
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            check=False,
            env={"DJOPS_SCENARIOS": "web sandbox"},
        )

    assert run("matrix").stdout == "ubuntu-26.04=web,sandbox\ndebian-12=web,sandbox\n"
    assert run("plan", "2", "debian-12=web,sandbox").stdout == "debian-12:web\ndebian-12:sandbox\n"
    for wrong in [("plan", "two", "debian-12=web"), ("plan", "2", "debian-12"), ("lanes",)]:
        done = run(*wrong)
        assert done.returncode == 2
        assert "usage" in done.stderr or "not DISTRO=" in done.stderr


def test_a_wrong_entry_or_lane_count_is_refused():
    with pytest.raises(ValueError, match="not DISTRO="):
        lanes.parse_entries(["debian-12"])
    with pytest.raises(ValueError, match="lanes must be 1 or more"):
        lanes.plan(0, {})
