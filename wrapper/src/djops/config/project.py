"""What a valid config asks of the world around it: the project's files, the TLS files on this
machine, and admin users who can still log in after hardening. Checked before any host is reached.
"""

from __future__ import annotations

import re
from pathlib import Path

from djops.config.discovery import project_root, resolve_python
from djops.config.load import load_config
from djops.config.models import ProjectConfig, ProvidedTls
from djops.config.problems import Loc, format_loc
from djops.errors import ConfigError, UsageError


def project_problems(config: ProjectConfig, root: Path) -> list[str]:
    """What in the project itself does not match a valid config (files it names, Python)."""
    problems = []
    project_dir = root / config.project_dir
    if not (project_dir / "manage.py").is_file():
        problems.append(
            f"project_dir: no manage.py in {project_dir} (project_dir is relative to the "
            f"repository root, {root})"
        )
    requirements = root / config.requirements
    if not requirements.is_file():
        problems.append(f"requirements: {requirements} does not exist")
    for stage, hooks in config.hooks:
        for index, hook in enumerate(hooks):
            if hook.tasks is not None and not (root / hook.tasks).is_file():
                loc = format_loc(("hooks", stage, index, "tasks"))
                problems.append(f"{loc}: {root / hook.tasks} does not exist")
    try:
        resolve_python(config, root)
    except UsageError as exc:
        problems.append(str(exc))
    problems.extend(provision_problems(config, root))
    return problems


def provision_problems(config: ProjectConfig, root: Path) -> list[str]:
    """What would stop `djops provision` on the servers: TLS files, admin users."""
    problems = []
    for name, environment in config.environments.items():
        if isinstance(environment.tls, ProvidedTls):
            problems.extend(_provided_tls_problems(environment.tls, root, ("environments", name)))
    problems.extend(access_problems(config))
    return problems


def controller_file(root: Path, value: str) -> Path:
    """A path of the config on this machine: ~ expanded, relative to the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


# What each file must hold, by the PEM labels it may start with.
_PEM_LABELS = {
    "certificate": ("CERTIFICATE",),
    "private_key": ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
}


def _provided_tls_problems(tls: ProvidedTls, root: Path, loc: Loc) -> list[str]:
    problems = []
    for key in ("certificate", "private_key"):
        where = format_loc((*loc, "tls", key))
        path = controller_file(root, getattr(tls, key))
        try:
            head = path.read_bytes()[: 64 * 1024].decode("ascii", errors="replace")
        except FileNotFoundError:
            problems.append(f"{where}: {path} does not exist")
            continue
        except OSError as exc:
            problems.append(f"{where}: {path} cannot be read: {exc.strerror or exc}")
            continue
        labels = re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----", head)
        if not labels or labels[0] not in _PEM_LABELS[key]:
            what = "certificate chain (leaf first)" if key == "certificate" else "private key"
            problems.append(f"{where}: {path} is not a PEM {what}")
    if not problems:
        problems.extend(_key_pair_problems(tls, root, loc))
    return problems


def _key_pair_problems(tls: ProvidedTls, root: Path, loc: Loc) -> list[str]:
    """The web hosts refuse a key that is not the certificate's: say so before they are reached.

    Messages name the files only; nothing read from the key is shown.
    """
    # cryptography comes with ansible-core; imported here, as only this check needs it.
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    certificate_path = controller_file(root, tls.certificate)
    key_path = controller_file(root, tls.private_key)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    try:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    except ValueError:
        where = format_loc((*loc, "tls", "certificate"))
        return [f"{where}: {certificate_path} holds no readable PEM certificate"]
    where = format_loc((*loc, "tls", "private_key"))
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except TypeError:
        return [
            f"{where}: {key_path} is encrypted with a passphrase; the web server reads it "
            "unattended: give it without one (openssl pkey -in KEY -out NEW) and keep it private"
        ]
    except (ValueError, UnsupportedAlgorithm):
        return [f"{where}: {key_path} holds no readable PEM private key"]
    if key.public_key().public_bytes(encoding, public) != certificate.public_key().public_bytes(
        encoding, public
    ):
        return [
            f"{where}: {key_path} is not the key of {certificate_path} (their public keys "
            "differ); give the key the certificate was issued for"
        ]
    return []


def access_problems(config: ProjectConfig) -> list[str]:
    """What keeps the base role from hardening a real host without locking djops out.

    The base role turns password and root login off and lets in only the users it manages: the
    login user of every real host must be one of admin_users (or root, with admin_users to take
    over). Sandbox hosts bring their own admin user.
    """
    problems = []
    for name, environment in config.environments.items():
        loc: Loc = ("environments", name)
        admins = {user.name for user in environment.admin_users}
        real = [(i, h) for i, h in enumerate(environment.hosts) if not h.is_sandbox]
        if real and not admins:
            problems.append(
                f"{format_loc((*loc, 'admin_users'))}: missing; the servers are hardened to let "
                "in only the admin users listed here: add admin_users: with your user name and "
                "public key (see docs/config.md)"
            )
            continue
        for index, host in real:
            if host.user is not None and host.user != "root" and host.user not in admins:
                problems.append(
                    f"{format_loc((*loc, 'hosts', index))}: djops logs in as {host.user!r}, "
                    "which is not in admin_users; hardening would shut it out: add it to "
                    "admin_users with its public key"
                )
    return problems


def check_config(path: Path) -> ProjectConfig:
    """load_config, then check the project files it names; ConfigError listing all problems."""
    config = load_config(path)
    problems = project_problems(config, project_root(path))
    if problems:
        raise ConfigError(str(path), problems)
    return config
