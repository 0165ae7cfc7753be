"""The sandbox's own logic, without booting anything."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from djops import cli
from djops.errors import OperationFailed, UsageError
from djops.sandbox import hosts, images, inventory, names, network, system
from djops.sandbox import state as sandbox_state
from djops.sandbox.paths import SandboxPaths


def test_managed_block_is_replaced_and_removed_without_touching_other_lines():
    original = "127.0.0.1 localhost\n10.0.0.5 nas\n"
    block = names.render_block([("198.18.1.2", ["web1", "app.test"])])
    added = names.replace_block(original, block)
    assert added.startswith(original)
    assert "198.18.1.2\tweb1 app.test" in added
    replaced = names.replace_block(added, names.render_block([("198.18.2.2", ["db1"])]))
    assert "web1" not in replaced
    assert "db1" in replaced
    assert names.replace_block(replaced, "") == original


def test_addresses_are_per_host_and_inside_the_sandbox_range():
    assert network.host_address(1) == "198.18.1.2"
    assert network.gateway_address(1) == "198.18.1.1"
    assert network.host_address(250) == "198.18.250.2"
    assert network.veth_name(250) == "djsb250"


@pytest.mark.parametrize("name", ["Web1", "1web", "web_1", "a" * 32, "web.1", ""])
def test_bad_host_names_are_refused(name):
    with pytest.raises(UsageError, match="not valid"):
        sandbox_state.validate_name(name)


@pytest.mark.parametrize("alias", ["app test", "-app.test", "1.2.3.4", "app..test"])
def test_bad_aliases_are_refused(alias):
    with pytest.raises(UsageError, match="not a valid host name"):
        sandbox_state.validate_alias(alias)


def test_unknown_distro_names_the_choices():
    with pytest.raises(UsageError, match=r"ubuntu-26\.04"):
        images.get_distro("centos-9")


def test_not_root_is_a_clear_usage_error(monkeypatch):
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    with pytest.raises(UsageError, match="need root"):
        system.require_host()


def test_missing_tools_name_their_packages(monkeypatch):
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    monkeypatch.setattr(
        system.shutil, "which", lambda tool: None if tool in ("debootstrap", "nft") else "/x"
    )
    with pytest.raises(UsageError) as error:
        system.require_host()
    assert "debootstrap nftables" in str(error.value)
    assert "apt-get install" in str(error.value)


def test_not_linux_is_refused(monkeypatch):
    monkeypatch.setattr(system.platform, "system", lambda: "Darwin")
    with pytest.raises(UsageError, match="need Linux"):
        system.require_host()


def test_sources_are_the_distros_usual_ones():
    ubuntu = images.get_distro("ubuntu-26.04").sources()
    assert "Suites: resolute resolute-updates" in ubuntu
    assert "resolute-security" in ubuntu
    assert "universe" in ubuntu
    debian = images.get_distro("debian-12").sources()
    assert "Suites: bookworm bookworm-updates" in debian
    assert "bookworm-security" in debian


def test_inventory_keeps_host_key_checking_on(tmp_path):
    paths = SandboxPaths(tmp_path)
    sandbox_state.save(
        paths, sandbox_state.HostState(name="web1", distro="debian-12", index=3, ready=True)
    )
    data = inventory.build(paths, ["web1"])
    web1 = data["all"]["hosts"]["web1"]
    assert web1["ansible_host"] == "198.18.3.2"
    assert web1["ansible_user"] == "admin"
    assert f"UserKnownHostsFile={tmp_path}/known_hosts" in web1["ansible_ssh_common_args"]
    assert "StrictHostKeyChecking=yes" in web1["ansible_ssh_common_args"]
    with pytest.raises(UsageError, match="no sandbox host named db1"):
        inventory.build(paths, ["db1"])


def test_ansible_and_djops_sandbox_ssh_connect_with_the_same_options(tmp_path):
    paths = SandboxPaths(tmp_path / "a home with a space")
    host = sandbox_state.HostState(name="web1", distro="debian-12", index=3, ready=True)
    ansible_args = shlex.split(inventory.host_vars(paths, host)["ansible_ssh_common_args"])
    assert ansible_args == paths.ssh_options
    argv = hosts.ssh_argv(paths, host)
    start = argv.index(paths.ssh_options[0])
    assert argv[start : start + len(paths.ssh_options)] == paths.ssh_options
    assert f"UserKnownHostsFile={tmp_path}/a home with a space/known_hosts" in ansible_args


def run_main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["djops", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_sandbox_user_errors_are_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DJOPS_SANDBOX_HOME", str(tmp_path))
    code, _, err = run_main(monkeypatch, capsys, "sandbox", "up", "Bad_Name")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: sandbox host name 'Bad_Name' is not valid: use lowercase letters, digits "
        "and -, starting with a letter, at most 31 characters"
    ]
    code, _, err = run_main(monkeypatch, capsys, "sandbox", "down")
    assert code == 2
    assert "--all" in err


def test_version_and_help_exit_0(monkeypatch, capsys):
    code, out, _ = run_main(monkeypatch, capsys, "--version")
    assert code == 0
    assert out.startswith("djops, version ")
    code, out, _ = run_main(monkeypatch, capsys, "--help")
    assert code == 0
    assert "sandbox" in out


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and ip")
def test_a_process_in_this_machines_own_network_is_never_addressed_as_a_host():
    # This process is in the machine's own namespace: attaching it must stop before any address
    # or route is set. The index has no veth, so a missing guard fails on that, not on eth0.
    before = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    try:
        with pytest.raises(OperationFailed, match="not in a network namespace of its own"):
            network.attach("t-own-netns", 249, os.getpid())
    finally:
        subprocess.run(["ip", "netns", "delete", network.netns_name("t-own-netns")], check=False)
    assert subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout == before


@pytest.mark.parametrize(
    "name", ["web1", "a" * 31, "tier-app", "Web1", "1web", "web_1", "a" * 32, ""]
)
def test_the_config_file_and_the_sandbox_agree_on_host_names(name):
    from djops.config.fields import _SANDBOX_NAME

    try:
        sandbox_state.validate_name(name)
        sandbox_accepts = True
    except UsageError:
        sandbox_accepts = False
    assert (_SANDBOX_NAME.problem(name) is None) == sandbox_accepts


def test_attach_waits_for_nspawn_to_make_the_veth_before_addressing_it(monkeypatch):
    # nspawn makes the host's end of the pair after the container's PID 1 exists: on a busy
    # machine, addressing it at once failed with "Cannot find device djsb1".
    calls = []
    appears = iter([False, False, True])
    monkeypatch.setattr(network, "netns_exists", lambda ns: False)
    monkeypatch.setattr(
        network, "link_exists", lambda name: calls.append(("exists?", name)) or next(appears, True)
    )
    monkeypatch.setattr(network.system, "pid_alive", lambda pid: True)
    monkeypatch.setattr(network.system, "run", lambda argv, check=True: calls.append(tuple(argv)))
    monkeypatch.setattr(network, "is_this_machines_namespace", lambda ns: False)
    monkeypatch.setattr(network, "wait_for_own_namespace", lambda name, pid: None)
    network.attach("web1", 1, 4242)
    first_address = calls.index(("ip", "addr", "replace", "198.18.1.1/24", "dev", "djsb1"))
    assert calls[:first_address].count(("exists?", "djsb1")) == 3


def test_attach_gives_up_when_the_container_is_gone_before_its_veth_appears(monkeypatch):
    monkeypatch.setattr(network, "netns_exists", lambda ns: False)
    monkeypatch.setattr(network, "link_exists", lambda name: False)
    monkeypatch.setattr(network.system, "pid_alive", lambda pid: False)
    monkeypatch.setattr(network.system, "run", lambda argv, check=True: None)
    monkeypatch.setattr(network, "is_this_machines_namespace", lambda ns: False)
    monkeypatch.setattr(network, "wait_for_own_namespace", lambda name, pid: None)
    with pytest.raises(OperationFailed, match="network link djsb1 did not appear"):
        network.attach("web1", 1, 4242)


def test_attach_waits_for_the_container_to_enter_a_network_namespace_of_its_own(monkeypatch):
    # Found before nspawn moved it into its namespace, PID 1 still shared this machine's: the
    # attach failed with "process … is not in a network namespace of its own" under load.
    calls = []
    inodes = iter([100, 100, 100, 200])  # this machine's is 100
    monkeypatch.setattr(network, "netns_exists", lambda ns: False)
    monkeypatch.setattr(network, "netns_inode", lambda pid: 100 if pid == "self" else next(inodes))
    monkeypatch.setattr(network, "link_exists", lambda name: True)
    monkeypatch.setattr(network.system, "run", lambda argv, check=True: calls.append(tuple(argv)))
    monkeypatch.setattr(network, "is_this_machines_namespace", lambda ns: False)
    monkeypatch.setattr(network.time, "sleep", lambda seconds: calls.append("sleep"))
    network.attach("web1", 1, 4242)
    attach = calls.index(("ip", "netns", "attach", "djops-web1", "4242"))
    assert calls[:attach].count("sleep") == 3


def test_attach_says_when_the_container_never_gets_a_namespace_of_its_own(monkeypatch):
    monkeypatch.setattr(network, "netns_exists", lambda ns: False)
    monkeypatch.setattr(network, "netns_inode", lambda pid: 100)
    monkeypatch.setattr(network.system, "run", lambda argv, check=True: None)
    monkeypatch.setattr(network.time, "sleep", lambda seconds: None)
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(network.time, "monotonic", lambda: next(clock))
    with pytest.raises(
        OperationFailed, match="is not in a network namespace of its own after 30 s"
    ):
        network.attach("web1", 1, 4242)


def test_attach_says_when_the_container_ends_before_it_has_a_namespace(monkeypatch):
    def inode(pid):
        if pid == "self":
            return 100
        raise FileNotFoundError(pid)

    monkeypatch.setattr(network, "netns_exists", lambda ns: False)
    monkeypatch.setattr(network, "netns_inode", inode)
    monkeypatch.setattr(network.system, "run", lambda argv, check=True: None)
    with pytest.raises(OperationFailed, match="ended before it had a network namespace"):
        network.attach("web1", 1, 4242)
