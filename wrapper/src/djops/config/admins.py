"""Validators of admin users: their unix names and their SSH public keys."""

from __future__ import annotations

import base64
import re
from typing import Annotated

from pydantic import AfterValidator

from djops.config.fields import _UNIX_USER_NAME
from djops.config.problems import _clip, _fail

# Key types sshd accepts for users, with the length of the base64 key data when it is fixed, and
# the shortest RSA key data accepted (2048 bits): the base role's own table
# (roles/base/vars/main.yml, __base_ssh_key_types), which refuses any other key.
_SSH_KEY_TYPES = {
    "ssh-ed25519": 68,
    "sk-ssh-ed25519@openssh.com": 0,
    "ssh-rsa": 0,
    "ecdsa-sha2-nistp256": 140,
    "ecdsa-sha2-nistp384": 184,
    "ecdsa-sha2-nistp521": 228,
    "sk-ecdsa-sha2-nistp256@openssh.com": 0,
}
_SSH_RSA_MIN_BLOB = 372
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _public_key_problem(value: str) -> str | None:
    """Why `value` is not one OpenSSH public key line (type, base64 data, comment), or None.

    Never quotes more than the key type: a private key pasted here must not be echoed.
    """
    text = value.strip()
    if "PRIVATE KEY" in text:
        return (
            "is a private key, which must never leave your machine: give the public key, the "
            "one line of the .pub file (ssh-keygen -y -f KEYFILE prints it)"
        )
    if not text:
        return "is empty; give a public key line such as 'ssh-ed25519 AAAA… you@laptop'"
    if "\n" in text or "\r" in text:
        return "holds several lines; give one public key per list item"
    parts = text.split()
    key_type = parts[0]
    if key_type not in _SSH_KEY_TYPES:
        shown = _clip(repr(key_type), 40)
        return (
            f"is not an OpenSSH public key: it starts with {shown}, not one of "
            f"{', '.join(_SSH_KEY_TYPES)} (give the .pub file's line)"
        )
    blob = parts[1] if len(parts) > 1 else ""
    if not _BASE64_RE.fullmatch(blob) or len(blob) % 4:
        return f"the key data after {key_type} is not base64 (cut or wrapped when copied?)"
    data = base64.b64decode(blob)
    embedded = data[4 : 4 + int.from_bytes(data[:4], "big")] if len(data) >= 4 else b""
    if embedded != key_type.encode():
        return f"the key data is not a {key_type} key (damaged or mislabelled)"
    length = _SSH_KEY_TYPES[key_type]
    if length and len(blob) != length:
        return f"the {key_type} key data has the wrong length (cut short?)"
    if key_type == "ssh-rsa" and len(blob) < _SSH_RSA_MIN_BLOB:
        return "is an RSA key shorter than 2048 bits; make a new key (ssh-keygen -t ed25519)"
    return None


def _check_public_key(value: str) -> str:
    problem = _public_key_problem(value)
    if problem:
        _fail(problem)
    return value.strip()


# Accounts an admin user must not be: root is never managed (root login is always refused), the
# others run the services djops installs.
_NOT_ADMIN_NAMES = frozenset({"root", "www-data", "postgres", "redis", "nobody", "daemon", "sshd"})


def _check_admin_name(value: str) -> str:
    _UNIX_USER_NAME.check(value)
    if value in _NOT_ADMIN_NAMES:
        why = (
            "root login is always refused; give the name of a user that uses sudo"
            if value == "root"
            else "it is a system or service account"
        )
        _fail(f"{value!r} cannot be an admin user: {why}")
    return value


PublicKey = Annotated[str, AfterValidator(_check_public_key)]
AdminName = Annotated[str, AfterValidator(_check_admin_name)]
