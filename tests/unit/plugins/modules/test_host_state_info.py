"""The module djops.django.host_state_info: its readers with a fake host, then the module itself
run by ansible-playbook against this machine (in check mode: it must read there too)."""

import hashlib
import os
from pathlib import Path

import pytest
from ansible_collections.djops.django.plugins.modules import host_state_info as module


class FakeHost(module.Host):
    """Answers commands from a table: argv tuple -> (rc, output); anything else is missing."""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def run(self, *argv):
        self.asked.append(argv)
        return self.answers.get(argv, (127, ""))


def test_packages_are_asked_in_one_query_and_unknown_ones_are_absent():
    host = FakeHost({})
    query = tuple(module.query_argv(["nginx", "telnet", "libc6"]))
    host.answers[query] = (1, "installed nginx\nconfig-files telnet\ninstalled libc6:amd64")
    assert module.packages(host, ["nginx", "telnet", "libc6"]) == {
        "nginx": "installed",
        "telnet": "config-files",
        "libc6": "installed",
    }
    assert module.packages(host, ["fail2ban"]) == {"fail2ban": "absent"}
    assert len(host.asked) == 2
    assert module.packages(host, []) == {}
    assert len(host.asked) == 2  # no names, no query


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ("Sudo version 1.9.13p3", "sudo"),
        ("sudo-rs 0.2.8", "sudo-rs"),
        ("", ""),
    ],
)
def test_sudo_tells_sudo_rs_from_sudo(first_line, expected):
    host = FakeHost({("sudo", "--version"): (0, f"{first_line}\nmore")})
    assert module.sudo(host) == expected


def test_ssh_reads_the_version_and_the_size_of_each_host_key(tmp_path):
    (tmp_path / "ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAA root@h\n")
    (tmp_path / "ssh_host_rsa_key.pub").write_text("ssh-rsa AAAA root@h\n")
    (tmp_path / "sshd_config").write_text("")
    ed25519, rsa = (str(tmp_path / f"ssh_host_{kind}_key.pub") for kind in ("ed25519", "rsa"))
    host = FakeHost(
        {
            ("ssh", "-V"): (0, "OpenSSH_9.6p1 Ubuntu-3ubuntu13, OpenSSL 3.0.13 30 Jan 2024"),
            ("ssh-keygen", "-l", "-f", ed25519): (0, "256 SHA256:abc root@h (ED25519)"),
            ("ssh-keygen", "-l", "-f", rsa): (0, "3072 SHA256:def root@h (RSA)"),
            ("systemctl", "is-enabled", "ssh.socket"): (1, "disabled"),
        }
    )
    found = module.ssh(host, etc_ssh=str(tmp_path))
    assert found["version"] == "9.6"
    assert found["host_keys"] == {"ED25519": 256, "RSA": 3072}
    assert found["socket"] == "disabled"


def test_sysctl_reports_values_folded_and_keys_this_host_lacks(tmp_path):
    (tmp_path / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "net" / "ipv4" / "ip_local_port_range").write_text("32768\t60999\n")
    values = module.sysctl(["net.ipv4.ip_local_port_range", "kernel.no_such"], str(tmp_path))
    assert values == {"net.ipv4.ip_local_port_range": "32768 60999", "kernel.no_such": "=missing"}


def test_stale_names_a_service_started_before_its_configuration_changed(tmp_path):
    config = tmp_path / "jail.local"
    config.write_text("")
    os.utime(config, (2000, 2000))
    host = FakeHost(
        {
            ("systemctl", "show", "--property", "ActiveEnterTimestamp", "--timestamp=unix", unit): (
                0,
                f"ActiveEnterTimestamp=@{since}",
            )
            for unit, since in (("fail2ban.service", 1000), ("nginx.service", 3000))
        }
    )
    running = {"enabled": "enabled", "active": "active"}
    found = module.stale(
        host,
        {
            "fail2ban.service": str(config),
            "nginx.service": str(config),
            "gone.service": str(config),
        },
        {
            "fail2ban.service": running,
            "nginx.service": running,
            "gone.service": {"active": "failed"},
        },
    )
    assert "fail2ban.service" in found
    assert "nginx.service" not in found
    assert "gone.service" not in found


def test_swaps_lists_the_devices_under_the_header():
    text = "Filename\tType\tSize\tUsed\tPriority\n/swapfile  file  1048572  0  -2\n"
    assert module.swaps(text) == ["/swapfile"]
    assert module.swaps(None) == []


def test_the_module_reads_this_machine_and_changes_nothing(tmp_path, run_task):
    watched = tmp_path / "watched.conf"
    watched.write_bytes(b"answer = 42\n")
    watched.chmod(0o640)
    args = {
        "files": [str(watched), str(tmp_path / "missing")],
        "dirs": [str(tmp_path), str(watched)],
        "texts": [str(watched)],
        "packages": ["dpkg", "djops-no-such-package"],
        "users": ["root", "djops-no-such-user"],
        "groups": ["root", "djops-no-such-group"],
    }
    result = run_task({"djops.django.host_state_info": args}, check=True)
    state = result["state"]
    assert result["changed"] is False
    assert state["files"] == {
        str(watched): {
            "sha1": hashlib.sha1(b"answer = 42\n").hexdigest(),  # noqa: S324
            "mode": "0640",
            "owner": "root",
            "group": "root",
        },
        str(tmp_path / "missing"): None,
    }
    assert state["dirs"] == {str(tmp_path): True, str(watched): False}
    assert state["texts"] == {str(watched): "answer = 42\n"}
    assert state["packages"] == {"dpkg": "installed", "djops-no-such-package": "absent"}
    assert list(state["users"]) == ["root"]
    assert state["users"]["root"]["group"] == "root"
    assert state["groups"] == ["root"]
    assert "/etc/crontab" in state["cron"] or not Path("/etc/crontab").exists()
