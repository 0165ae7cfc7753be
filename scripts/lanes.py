"""Which Molecule scenarios scripts/test runs on which release, and in which lane.

  python3 scripts/lanes.py matrix               # a "DISTRO=scenario,scenario" line per release
  python3 scripts/lanes.py plan LANES ENTRY...  # a "distro:scenario ..." line per lane, in order

The matrix: every scenario on the newest release, and on the oldest the ones most tied to the
distribution's packages (the rest pass there too; they cost CI time). DJOPS_DISTROS and/or
DJOPS_SCENARIOS (space-separated) replace it with every scenario named on every release named.

The lanes run side by side. A scenario keeps its host names and domains on every release, so all
of one scenario's runs go to the same lane, one after the other, and so would scenarios that
share a domain (GROUP; none do). Lanes are filled longest first, by the rough cost of each
scenario: minutes per run in a three-lane scripts/test run on a 2-core machine (the CI run of
38f1e4e, with Mitogen: app 21 and 16, stack 24, template 13, postgres 7 and 7, web 7, redis 6
and 5, base 3, sandbox under 1).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

SCENARIOS = ("sandbox", "base", "postgres", "redis", "web", "app", "stack", "template")
DISTROS = ("ubuntu-26.04", "debian-12")
MATRIX = {
    "ubuntu-26.04": SCENARIOS,
    "debian-12": ("sandbox", "postgres", "redis", "app"),
}
# Scenarios that must share a lane with another, as {scenario: the other}: they would serve the
# same domain (a sandbox host's name or alias is known to the whole machine).
GROUP: dict[str, str] = {}
COST = {"stack": 24, "app": 19, "template": 13, "postgres": 7, "web": 7, "redis": 5, "base": 3}
DEFAULT_COST = 5
SANDBOX_COST = 1


def cost(scenario: str) -> int:
    if scenario == "sandbox":
        return SANDBOX_COST
    return COST.get(scenario, DEFAULT_COST)


def matrix(env: Mapping[str, str]) -> dict[str, list[str]]:
    """The releases and, for each, the scenarios to run on it."""
    distros = env.get("DJOPS_DISTROS", "").split()
    scenarios = env.get("DJOPS_SCENARIOS", "").split()
    if not distros and not scenarios:
        return {distro: list(names) for distro, names in MATRIX.items()}
    return {distro: list(scenarios or SCENARIOS) for distro in distros or DISTROS}


def parse_entries(entries: list[str]) -> dict[str, list[str]]:
    """``DISTRO=scenario,scenario`` entries, as `matrix` prints them."""
    parsed: dict[str, list[str]] = {}
    for entry in entries:
        distro, sep, names = entry.partition("=")
        if not sep or not distro:
            raise ValueError(f"not DISTRO=scenario,...: {entry!r}")
        parsed[distro] = [name for name in names.split(",") if name]
    return parsed


def plan(lanes: int, runs: Mapping[str, list[str]]) -> list[list[str]]:
    """The jobs (``distro:scenario``) of each lane, in the order the lane runs them."""
    if lanes < 1:
        raise ValueError(f"lanes must be 1 or more, not {lanes}")
    groups: dict[str, list[str]] = {}
    for distro, scenarios in runs.items():
        for scenario in scenarios:
            groups.setdefault(GROUP.get(scenario, scenario), []).append(f"{distro}:{scenario}")

    def group_cost(name: str) -> int:
        return sum(cost(job.partition(":")[2]) for job in groups[name])

    jobs: list[list[str]] = [[] for _ in range(lanes)]
    load = [0] * lanes
    for name in sorted(groups, key=lambda name: (-group_cost(name), name)):
        least = load.index(min(load))
        jobs[least].extend(groups[name])
        load[least] += group_cost(name)
    return jobs


def main(argv: list[str]) -> int:
    if argv[:1] == ["matrix"] and len(argv) == 1:
        for distro, scenarios in matrix(os.environ).items():
            print(f"{distro}={','.join(scenarios)}")
        return 0
    if argv[:1] == ["plan"] and len(argv) >= 2 and argv[1].isdigit():
        try:
            planned = plan(int(argv[1]), parse_entries(argv[2:]))
        except ValueError as error:
            print(f"lanes.py: {error}", file=sys.stderr)
            return 2
        for lane in planned:
            print(" ".join(lane))
        return 0
    print("usage: lanes.py matrix | lanes.py plan LANES DISTRO=scenario,... ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
