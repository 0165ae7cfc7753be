"""What sandbox hosts leave on the controller: for checking that `down` removed everything."""

from __future__ import annotations

from djops.sandbox import names, network, processes, system
from djops.sandbox.paths import SandboxPaths


def leftovers(paths: SandboxPaths) -> dict[str, list[str]]:
    """Everything sandbox hosts can leave on the controller, by kind: empty lists when clean.

    The unreachable route for the whole range is not a leftover: it stays on purpose.
    """
    hosts_file = names.controller_hosts_file()
    hosts_text = hosts_file.read_text() if hosts_file.exists() else ""
    cgroup_tops = {d.parent for d in processes.cgroup_dirs("x")}
    return {
        "host directories": sorted(p.name for p in paths.hosts.iterdir())
        if paths.hosts.is_dir()
        else [],
        "processes": [
            str(pid)
            for pid in processes.nspawn_pids_for(paths.hosts)
            if processes.state_letter(pid) not in ("Z", "")
        ],
        "network namespaces": network.leftover_netns(),
        "veth links": network.leftover_links(),
        "cgroups": sorted(str(d) for d in cgroup_tops if d.exists()),
        "mounts": [str(p) for p in system.mounted_under(paths.hosts)],
        "nat table": [network.NFT_TABLE] if network.table_exists() else [],
        "hosts file lines": [line for line in hosts_text.splitlines() if "djops sandbox" in line],
        "known_hosts": [str(paths.known_hosts)] if paths.known_hosts.exists() else [],
    }


def host_leftovers(paths: SandboxPaths, name: str, index: int) -> dict[str, list[str]]:
    """What one host could leave behind after `down NAME`: empty lists when clean."""
    hosts_file = names.controller_hosts_file()
    hosts_text = hosts_file.read_text() if hosts_file.exists() else ""
    known = paths.known_hosts.read_text() if paths.known_hosts.exists() else ""
    root = paths.host(name) / "root"
    return {
        "host directory": [str(paths.host(name))] if paths.host(name).exists() else [],
        "processes": [
            str(p)
            for p in processes.nspawn_pids_for(root)
            if processes.state_letter(p) not in ("Z", "")
        ],
        "network namespace": [n for n in network.leftover_netns() if n == network.netns_name(name)],
        "veth link": [n for n in network.leftover_links() if n == network.veth_name(index)],
        "cgroups": [str(d) for d in processes.cgroup_dirs(name) if d.exists()],
        "mounts": [str(p) for p in system.mounted_under(paths.host(name))],
        "hosts file lines": [ln for ln in hosts_text.splitlines() if name in ln.split()],
        "known_hosts lines": [
            ln for ln in known.splitlines() if name in ln.split(" ")[0].split(",")
        ],
    }
