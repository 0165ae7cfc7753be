"""The sandbox CA on the controller: made once, key private, trusted by Python clients."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from djops import plan
from djops.cli import cli
from djops.commands import _playbook
from djops.config import load_config
from djops.sandbox import ca
from djops.sandbox import state as sandbox_state
from djops.sandbox.paths import SandboxPaths

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notes"


def test_the_ca_is_made_once_with_a_private_key(tmp_path):
    paths = SandboxPaths(tmp_path)
    cert_path = ca.ensure(paths)
    assert cert_path == paths.ca_certificate
    assert paths.ca_key.stat().st_mode & 0o777 == 0o600
    assert cert_path.stat().st_mode & 0o777 == 0o644
    first = cert_path.read_bytes()
    assert ca.ensure(paths) == cert_path
    assert cert_path.read_bytes() == first
    cert = x509.load_pem_x509_certificate(first)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert not list(tmp_path.glob(".ca-*"))


def _leaf_signed_by(paths: SandboxPaths, directory: Path, name: str) -> tuple[Path, Path]:
    """A server certificate for NAME signed by the CA, as the certbot role makes one."""
    ca_cert = x509.load_pem_x509_certificate(paths.ca_certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / "leaf.pem", directory / "leaf-key.pem"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_a_python_client_trusting_the_ca_verifies_a_site_it_signed(tmp_path):
    paths = SandboxPaths(tmp_path / "sandbox")
    ca.ensure(paths)
    cert_file, key_file = _leaf_signed_by(paths, tmp_path, "localhost")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve_once() -> None:
            conn, _ = listener.accept()
            with conn, server_context.wrap_socket(conn, server_side=True):
                pass

        server = threading.Thread(target=serve_once)
        server.start()
        client = ssl.create_default_context(cafile=paths.ca_certificate)
        client.verify_flags |= ssl.VERIFY_X509_STRICT
        with (
            socket.create_connection(listener.getsockname(), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.getpeercert()["subject"] == ((("commonName", "localhost"),),)
        server.join(timeout=10)


@pytest.fixture
def sandbox_web1(tmp_path, monkeypatch):
    paths = SandboxPaths(tmp_path)
    sandbox_state.save(
        paths, sandbox_state.HostState(name="web1", distro="ubuntu-26.04", index=7, ready=True)
    )
    monkeypatch.setattr(sandbox_state, "is_running", lambda state: True)
    monkeypatch.setenv("DJOPS_SANDBOX_HOME", str(tmp_path))
    return paths


def test_self_signed_sandbox_sites_are_signed_by_the_sandbox_ca(sandbox_web1):
    config = load_config(EXAMPLE / "deploy/djops.yml")
    variables = plan.project_vars(_playbook.target(config, EXAMPLE, "sandbox"))
    assert variables["certbot_self_signed_ca_path"] == str(sandbox_web1.ca_certificate)
    assert variables["certbot_self_signed_ca_key_path"] == str(sandbox_web1.ca_key)
    assert sandbox_web1.ca_certificate.is_file() and sandbox_web1.ca_key.is_file()


def test_other_environments_get_no_ca(sandbox_web1):
    config = load_config(EXAMPLE / "deploy/djops.yml")
    variables = plan.project_vars(_playbook.target(config, EXAMPLE, "production"))
    assert not any(name.startswith("certbot_self_signed_ca") for name in variables)
    assert not sandbox_web1.ca_dir.exists()


def test_sandbox_ca_prints_the_file_to_trust(tmp_path, monkeypatch):
    monkeypatch.setenv("DJOPS_SANDBOX_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["sandbox", "ca"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / "ca" / "ca.pem")
    assert x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.pem").read_bytes())
