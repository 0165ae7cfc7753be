"""The sandbox network: one small subnet per host, routed by the controller, NAT to the outside.

Every host gets 198.18.<index>.0/24 (the benchmarking range, never the machine's own network):
the controller side of its veth is .1, the host is .2. The controller forwards between hosts,
so they reach each other with their real addresses (firewall and pg_hba rules see who calls),
and masquerades traffic that leaves the range, so apt and pip work inside.

The whole range carries an ``unreachable`` route that stays after the last host is gone: a
test that talks to a host already torn down fails at once, here, instead of leaving through
the default gateway.
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

from djops.errors import OperationFailed
from djops.sandbox import system

SANDBOX_RANGE = ipaddress.ip_network("198.18.0.0/16")
NFT_TABLE = "djops_sandbox"
MAX_HOSTS = 250


def host_address(index: int) -> str:
    return str(SANDBOX_RANGE.network_address + (index << 8) + 2)


def gateway_address(index: int) -> str:
    return str(SANDBOX_RANGE.network_address + (index << 8) + 1)


def veth_name(index: int) -> str:
    return f"djsb{index}"


def netns_name(name: str) -> str:
    return f"djops-{name}"


def ensure_range_routing() -> None:
    """Keep the whole range on this machine, and let the controller route between hosts."""
    system.run(["ip", "route", "replace", "unreachable", str(SANDBOX_RANGE)])
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


def ensure_nat() -> None:
    """Masquerade what leaves the range, in a table of our own (removed with the last host)."""
    rules = f"""
table ip {NFT_TABLE} {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr {SANDBOX_RANGE} ip daddr != {SANDBOX_RANGE} masquerade
    }}
    chain forward {{
        type filter hook forward priority filter; policy accept;
        ip saddr {SANDBOX_RANGE} accept
        ip daddr {SANDBOX_RANGE} ct state established,related accept
        ip daddr {SANDBOX_RANGE} ip saddr {SANDBOX_RANGE} accept
    }}
}}
"""
    # Declaring the table again would add duplicate rules: replace it whole.
    if table_exists():
        system.run(["nft", "delete", "table", "ip", NFT_TABLE])
    system.run(["nft", "-f", "-"], input=rules)


def table_exists() -> bool:
    return system.ok(["nft", "list", "table", "ip", NFT_TABLE])


def remove_nat() -> None:
    if table_exists():
        system.run(["nft", "delete", "table", "ip", NFT_TABLE])


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def attach(name: str, index: int, container_pid: int) -> None:
    """Name the host's network namespace and address both ends of its veth pair."""
    ns = netns_name(name)
    if netns_exists(ns):
        system.run(["ip", "netns", "delete", ns], check=False)
    wait_for_own_namespace(name, container_pid)
    system.run(["ip", "netns", "attach", ns, str(container_pid)])
    # Everything below runs `ip -n NS`: were NS this machine's own namespace (a process that is
    # not the container's, or one that has left it), it would give this machine's eth0 the
    # host's address and replace its default route.
    if is_this_machines_namespace(ns):
        system.run(["ip", "netns", "delete", ns], check=False)
        raise OperationFailed(
            f"sandbox host {name}: process {container_pid} is not in a network namespace of its "
            "own (the container did not start as expected; see its console log)"
        )
    veth = veth_name(index)
    wait_for_link(name, veth, container_pid)
    gw, addr = gateway_address(index), host_address(index)
    system.run(["ip", "addr", "replace", f"{gw}/24", "dev", veth])
    system.run(["ip", "link", "set", veth, "up"])
    inside = ["ip", "-n", ns]
    system.run([*inside, "link", "set", "lo", "up"])
    system.run([*inside, "addr", "replace", f"{addr}/24", "dev", "eth0"])
    system.run([*inside, "link", "set", "eth0", "up"])
    system.run([*inside, "route", "replace", "default", "via", gw])


def is_this_machines_namespace(ns: str) -> bool:
    return Path("/run/netns", ns).stat().st_ino == netns_inode("self")


def netns_inode(pid: int | str) -> int:
    """The inode of a process's network namespace (OSError when the process is gone)."""
    return Path(f"/proc/{pid}/ns/net").stat().st_ino


def wait_for_own_namespace(name: str, container_pid: int, timeout: float = 30.0) -> None:
    """Wait for the container's PID 1 to be in a network namespace other than this machine's.

    On a busy machine, PID 1 can be found (processes.find_leader) before it is in the network
    namespace nspawn gives it: attaching to it then would name this machine's own namespace.
    """
    ours = netns_inode("self")
    deadline = time.monotonic() + timeout
    while True:
        try:
            if netns_inode(container_pid) != ours:
                return
        except OSError:
            raise OperationFailed(
                f"sandbox host {name}: process {container_pid} ended before it had a network "
                "namespace of its own (the container did not start; see its console log)"
            ) from None
        if time.monotonic() > deadline:
            raise OperationFailed(
                f"sandbox host {name}: process {container_pid} is not in a network namespace of "
                f"its own after {timeout:.0f} s (the container did not start as expected; see its "
                "console log)"
            )
        time.sleep(0.05)


def wait_for_link(name: str, veth: str, container_pid: int, timeout: float = 30.0) -> None:
    """Wait for nspawn to make the host's end of the veth pair.

    nspawn makes the pair once the container's PID 1 exists, so on a busy machine PID 1 can be
    found (processes.find_leader) a while before the link is there.
    """
    deadline = time.monotonic() + timeout
    while not link_exists(veth):
        if not system.pid_alive(container_pid) or time.monotonic() > deadline:
            raise OperationFailed(
                f"sandbox host {name}: its network link {veth} did not appear within "
                f"{timeout:.0f} s (the container did not start as expected; see its console log)"
            )
        time.sleep(0.05)


def detach(name: str, index: int | None) -> None:
    ns = netns_name(name)
    if netns_exists(ns):
        system.run(["ip", "netns", "delete", ns], check=False)
    if index is not None and link_exists(veth_name(index)):
        system.run(["ip", "link", "delete", veth_name(index)], check=False)


def leftover_links() -> list[str]:
    return sorted(p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith("djsb"))


def leftover_netns() -> list[str]:
    base = Path("/run/netns")
    return (
        sorted(p.name for p in base.iterdir() if p.name.startswith("djops-"))
        if base.is_dir()
        else []
    )
