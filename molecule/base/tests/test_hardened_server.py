"""The hardened server's state after djops.django.base (converge.yml, host vars in molecule.yml).

One test per claim about what is installed, running, listening and configured. What the state
is for (who gets in over SSH, which ports answer whom, fail2ban banning and letting go, the
password policy) is tried in verify.yml, as a user would meet it.
"""

from __future__ import annotations

import re

import pytest

testinfra_hosts = ["base-a"]


@pytest.fixture(scope="module")
def sshd_settings(host) -> dict[str, str]:
    """sshd's effective settings (`sshd -T`), lowercase keywords as sshd prints them."""
    out = host.check_output("sshd -T")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_sshd_listens_on_the_moved_port_and_not_on_22(host):
    assert host.socket("tcp://2222").is_listening
    assert not host.socket("tcp://22").is_listening


def test_sshd_refuses_root_and_passwords(sshd_settings):
    assert sshd_settings["permitrootlogin"] == "no"
    assert sshd_settings["passwordauthentication"] == "no"
    assert sshd_settings["kbdinteractiveauthentication"] == "no"


def test_sshd_admits_only_its_login_group(sshd_settings):
    assert sshd_settings["allowgroups"] == "ssh-users"


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("maxauthtries", "3"),
        ("logingracetime", "30"),
        ("x11forwarding", "no"),
        ("allowtcpforwarding", "no"),
        ("allowagentforwarding", "no"),
    ],
)
def test_sshd_limits(sshd_settings, keyword, value):
    assert sshd_settings[keyword] == value


def test_the_users_log_in_through_the_ssh_group_with_their_own_groups(host):
    for name in ("admin", "deploy"):
        user = host.user(name)
        assert user.exists
        assert user.group == name
        assert "ssh-users" in user.groups
    assert "ssh-users" not in host.user("outsider").groups


def test_the_users_homes_are_private(host):
    for name in ("admin", "deploy"):
        home = host.file(host.user(name).home)
        assert home.user == name
        assert home.mode == 0o750


def test_the_sudoers_file_is_valid_root_only_and_gives_sudo_a_terminal(host):
    sudoers = host.file("/etc/sudoers.d/50-djops-users")
    assert (sudoers.user, sudoers.group, sudoers.mode) == ("root", "root", 0o440)
    assert re.search(r"^Defaults use_pty$", sudoers.content_string, re.MULTILINE)
    assert host.run("visudo -c").rc == 0


def test_fail2ban_runs_and_starts_at_boot(host):
    assert host.service("fail2ban").is_running
    assert host.service("fail2ban").is_enabled


def test_the_firewall_is_loaded_and_loads_at_boot(host):
    # nftables.service is a oneshot: it loads /etc/nftables.conf and exits.
    assert host.service("nftables").is_enabled
    assert "table inet djops_base" in host.check_output("nft list tables")


@pytest.mark.parametrize("timer", ["apt-daily.timer", "apt-daily-upgrade.timer"])
def test_the_apt_timers_run(host, timer):
    assert host.service(timer).is_enabled
    assert host.service(timer).is_running


def test_unattended_upgrades_takes_security_updates_only(host):
    assert host.package("unattended-upgrades").is_installed
    out = host.run("unattended-upgrade --dry-run --debug")
    found = re.search(r"Allowed origins are: *(.*)", out.stdout + out.stderr)
    assert found, "unattended-upgrade did not say which origins it allows"
    origins = [o for o in found[1].split(", ") if o]
    assert origins
    assert [o for o in origins if not re.search("(?i)security", o)] == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("net.ipv4.conf.all.rp_filter", 1),
        ("net.ipv4.conf.all.accept_redirects", 0),
        ("net.ipv4.conf.all.send_redirects", 0),
        ("net.ipv4.tcp_syncookies", 1),
    ],
)
def test_the_kernel_applies_the_network_settings(host, key, value):
    assert host.sysctl(key) == value


def test_the_journal_is_kept_on_disk(host):
    assert host.file("/var/log/journal").is_directory
    assert host.run("find /var/log/journal -name system.journal").stdout.strip()
