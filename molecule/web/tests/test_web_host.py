"""The web host's state after djops.django.nginx and certbot (converge.yml, vars/scenario.yml).

One test per claim about what runs, listens and is kept where. What the sites serve, to whom and
how (TLS, headers, redirects, logs, renewals under load) is tried in verify.yml.
"""

from __future__ import annotations

import pytest

testinfra_hosts = ["edge-web"]


def test_nginx_runs_starts_at_boot_and_its_configuration_is_valid(host):
    assert host.service("nginx").is_running
    assert host.service("nginx").is_enabled
    assert host.run("nginx -t").rc == 0


@pytest.mark.parametrize("port", [80, 443])
def test_nginx_listens_for_http_and_https(host, port):
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_renewals_are_scheduled(host):
    timer = host.service("certbot.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_a_provided_key_is_root_only(host):
    directory = host.file("/etc/djops/tls/shop")
    assert (directory.user, directory.group, directory.mode) == ("root", "root", 0o750)
    key = host.file("/etc/djops/tls/shop/privkey.pem")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    certificate = host.file("/etc/djops/tls/shop/fullchain.pem")
    assert certificate.mode == 0o644
