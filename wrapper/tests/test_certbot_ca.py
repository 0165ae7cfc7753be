"""The certbot role signs self_signed certificates with a CA on the controller.

The role's self_signed.yml runs for real with ansible-playbook against this machine (connection
local, files under tmp_path): no sandbox host. A Python TLS client that trusts only the CA then
checks the certificate the role installed, with OpenSSL's strict checks (Python 3.13's default).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ansible_local import ansible_env

from djops.sandbox import ca
from djops.sandbox.paths import SandboxPaths

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".ansible" / "collections"
pytestmark = pytest.mark.skipif(
    shutil.which("ansible-playbook") is None
    or not (COLLECTIONS / "ansible_collections" / "djops" / "django").exists()
    or os.geteuid() != 0,
    reason="needs root, ansible-playbook and the collection linked (scripts/bootstrap)",
)

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: djops.django.certbot
        tasks_from: validate.yml
    - ansible.builtin.include_role:
        name: djops.django.certbot
        tasks_from: self_signed.yml
"""


def run_self_signed(tmp_path: Path, variables: dict) -> subprocess.CompletedProcess:
    (tmp_path / "self_signed.yml").write_text(PLAYBOOK)
    (tmp_path / "vars.json").write_text(
        json.dumps(
            {
                "certbot_certificates": [
                    {"name": "notes", "domains": ["notes.test"], "source": "self_signed"}
                ],
                "certbot_tls_dir": str(tmp_path / "tls"),
                "certbot_reload_services": [],
                **variables,
            }
        )
    )
    (tmp_path / "tls" / "notes").mkdir(parents=True, exist_ok=True)
    env = ansible_env(tmp_path)
    result = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            "@" + str(tmp_path / "vars.json"),
            str(tmp_path / "self_signed.yml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


def verify_with_ca(directory: Path, cafile: Path) -> None:
    """Serve the certificate on loopback; a client trusting only CAFILE must verify it."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(directory / "fullchain.pem", directory / "privkey.pem")
    client = ssl.create_default_context(cafile=cafile)
    client.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve_once() -> None:
            conn, _ = listener.accept()
            with conn, server_context.wrap_socket(conn, server_side=True):
                pass

        server = threading.Thread(target=serve_once, daemon=True)
        server.start()
        with (
            socket.create_connection(listener.getsockname(), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname="notes.test"),
        ):
            pass
        server.join(timeout=10)


def test_a_ca_on_the_controller_signs_and_replaces_self_signed_certificates(tmp_path):
    paths = SandboxPaths(tmp_path / "sandbox")
    ca.ensure(paths)
    with_ca = {
        "certbot_self_signed_ca_path": str(paths.ca_certificate),
        "certbot_self_signed_ca_key_path": str(paths.ca_key),
    }
    site = tmp_path / "tls" / "notes"

    # Without a CA each certificate signs itself, as before; the CA does not vouch for it.
    run_self_signed(tmp_path, {})
    with pytest.raises(ssl.SSLCertVerificationError):
        verify_with_ca(site, paths.ca_certificate)

    # With the CA the certificate in place is replaced by one it signed, and a second run
    # leaves it alone.
    run_self_signed(tmp_path, with_ca)
    verify_with_ca(site, paths.ca_certificate)
    signed = (site / "fullchain.pem").read_bytes()
    again = run_self_signed(tmp_path, with_ca)
    assert "changed=0" in again.stdout
    assert (site / "fullchain.pem").read_bytes() == signed
    # The CA's key was read on the controller only: it is in no file the role wrote.
    key_line = paths.ca_key.read_text().splitlines()[1]
    assert not any(key_line in f.read_text() for f in site.iterdir())


def test_the_ca_must_be_given_in_full(tmp_path):
    paths = SandboxPaths(tmp_path / "sandbox")
    ca.ensure(paths)
    (tmp_path / "self_signed.yml").write_text(PLAYBOOK)
    with pytest.raises(AssertionError, match="set certbot_self_signed_ca_path and"):
        run_self_signed(tmp_path, {"certbot_self_signed_ca_path": str(paths.ca_certificate)})
    assert not (tmp_path / "tls" / "notes" / "fullchain.pem").exists()
