"""The sandbox's own certificate authority, kept on the controller.

Sandbox sites with `tls: self-signed` get certificates signed by it (the certbot role signs
on the controller; the key never goes to a host), so clients that refuse a self-signed leaf
as a trust anchor (Python with OpenSSL 3, Go) can trust this one file, as with mkcert.
"""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from djops.sandbox.paths import SandboxPaths

VALIDITY = datetime.timedelta(days=3650)


def ensure(paths: SandboxPaths) -> Path:
    """Make the CA once (key readable by its owner only); return its certificate's path."""
    if paths.ca_certificate.is_file() and paths.ca_key.is_file():
        return paths.ca_certificate
    paths.home.mkdir(parents=True, exist_ok=True)
    # Made in a directory of its own, then renamed into place: two runs at once keep one CA
    # whose key and certificate belong together.
    staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=paths.home))
    try:
        key_pem, cert_pem = _new_ca()
        key_fd = os.open(staging / paths.ca_key.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(key_fd, "wb") as key_file:
            key_file.write(key_pem)
        (staging / paths.ca_certificate.name).write_bytes(cert_pem)
        (staging / paths.ca_certificate.name).chmod(0o644)
        staging.chmod(0o755)
        try:
            staging.rename(paths.ca_dir)
        except OSError:
            if not paths.ca_certificate.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return paths.ca_certificate


def _new_ca() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "djops sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"djops sandbox CA ({socket.gethostname()})"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        # What OpenSSL's strict checks (Python 3.13's default) ask of a trust anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
