"""Sandbox hosts for real: boots systemd-nspawn containers (needs root and the host packages).

What `djops sandbox down --all` must leave behind is nothing; this test checks each kind of
thing a host can leave on the controller (see djops.sandbox.leftovers):
host directories, nspawn processes, network namespaces, veth links, cgroups, mounts, the NAT
table, the managed /etc/hosts block and the known_hosts file. The unreachable route for the
whole range stays, so a connection to a torn-down host fails here, at once.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from djops.sandbox import network
from djops.sandbox import state as sandbox_state
from djops.sandbox.leftovers import host_leftovers, leftovers
from djops.sandbox.paths import SandboxPaths

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("systemd-nspawn") is None,
        reason="sandbox hosts need root and systemd-nspawn",
    ),
]

PATHS = SandboxPaths.from_env()
NAMES = ["t-web1", "t-db1", "t-cache1", "t-worker1"]


def djops(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["djops", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"djops {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture
def own_hosts():
    yield
    djops("sandbox", "down", *NAMES, check=False)


def test_hosts_boot_resolve_each_other_and_down_leaves_nothing(own_hosts):
    djops("sandbox", "up", "t-web1", "--alias", "app.t-web1.test")
    djops("sandbox", "up", "t-db1", "--distro", "debian-12")
    for name in NAMES[2:]:
        djops("sandbox", "up", name)

    listed = {h["name"]: h for h in json.loads(djops("sandbox", "list", "--json").stdout)}
    assert set(NAMES) <= set(listed)
    assert all(listed[n]["state"] == "running" for n in NAMES)
    assert len({h["address"] for h in listed.values()}) == len(listed)

    # Each host resolves the others by name, and reaches them.
    resolved = djops("sandbox", "ssh", "t-web1", "--", "getent", "hosts", "t-db1").stdout.split()
    assert resolved[0] == listed["t-db1"]["address"]
    djops("sandbox", "ssh", "t-db1", "--", "ping", "-c1", "-W2", "t-worker1")
    # The controller resolves names and aliases through /etc/hosts.
    assert socket.gethostbyname("app.t-web1.test") == listed["t-web1"]["address"]

    # Servers of their own: machine-id, host keys and hostname differ.
    ids = {
        n: djops("sandbox", "ssh", n, "--", "cat", "/etc/machine-id", "/etc/hostname").stdout
        for n in ("t-web1", "t-cache1")
    }
    assert ids["t-web1"] != ids["t-cache1"]
    assert ids["t-web1"].split()[1] == "t-web1"

    # up is idempotent: the same host, untouched.
    again = djops("sandbox", "up", "t-web1")
    assert "already up" in again.stderr
    after = {h["name"]: h for h in json.loads(djops("sandbox", "list", "--json").stdout)}
    assert after["t-web1"]["address"] == listed["t-web1"]["address"]

    # A killed run: nspawn dies without cleaning up; up brings the host back.
    state = sandbox_state.load(PATHS, "t-cache1")
    os.kill(state.nspawn_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while sandbox_state.is_running(state) and time.monotonic() < deadline:
        time.sleep(0.1)
    djops("sandbox", "up", "t-cache1")
    assert djops("sandbox", "ssh", "t-cache1", "--", "hostname").stdout.strip() == "t-cache1"

    # Downloads are shared: a package one host fetched is in the next host's apt archive.
    djops(
        "sandbox", "ssh", "t-worker1", "--",
        "sudo", "apt-get", "install", "-y", "-q", "--no-install-recommends", "nano",
    )  # fmt: skip

    indexes = {n: sandbox_state.load(PATHS, n).index for n in NAMES}
    djops("sandbox", "down", *NAMES)
    for name in NAMES:
        left = host_leftovers(PATHS, name, indexes[name])
        assert left == {kind: [] for kind in left}, name

    # A torn-down host's address fails locally and at once, never via the default gateway.
    routes = subprocess.run(
        ["ip", "route", "show", str(network.SANDBOX_RANGE)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert routes.startswith("unreachable")
    with socket.socket() as sock:
        sock.settimeout(5)
        started = time.monotonic()
        with pytest.raises(OSError) as failure:
            sock.connect((listed["t-worker1"]["address"], 22))
        assert failure.value.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
        assert time.monotonic() - started < 1

    djops("sandbox", "up", "t-web1")
    cached = djops(
        "sandbox", "ssh", "t-web1", "--", "ls", "/var/cache/apt/archives/"
    ).stdout.split()  # fmt: skip
    assert any(f.startswith("nano_") for f in cached)


def test_down_all_leaves_nothing_behind():
    running = [s.name for s in sandbox_state.all_states(PATHS) if sandbox_state.is_running(s)]
    if running:
        pytest.skip(f"sandbox hosts are up ({', '.join(running)}): down --all would remove them")
    djops("sandbox", "up", "t-all1")
    djops("sandbox", "down", "--all")
    left = leftovers(PATHS)
    assert left == {kind: [] for kind in left}
