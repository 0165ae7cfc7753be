"""Root filesystems for sandbox hosts: built once per distribution with debootstrap, then cached.

An image looks like a fresh cloud server: the distribution's usual package sources, sshd,
sudo, python3, and a non-root sudo user (``admin``) that logs in with the sandbox key.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from djops.errors import OperationFailed, UsageError
from djops.sandbox import system
from djops.sandbox.paths import SandboxPaths

ADMIN_USER = "admin"

# Bump when the recipe below changes, so cached images are rebuilt.
IMAGE_RECIPE = 3

BASE_PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "libpam-systemd",
    "python3",
    "python3-apt",
    "openssh-server",
    "sudo",
    "iproute2",
    "iputils-ping",
    "procps",
    "netbase",
    "ca-certificates",
    "curl",
    "less",
    "tzdata",
]

UBUNTU_MIRROR = "http://archive.ubuntu.com/ubuntu"
UBUNTU_SECURITY = "http://security.ubuntu.com/ubuntu"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"

# Debian ships no Ubuntu keyring; take Ubuntu's own package and pin its checksum.
UBUNTU_KEYRING_DEB = "pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb"
UBUNTU_KEYRING_SHA256 = "36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8"


@dataclass(frozen=True)
class Distro:
    key: str  # what users type: ubuntu-26.04
    family: str  # ubuntu | debian
    codename: str
    version: str

    @property
    def mirror(self) -> str:
        return UBUNTU_MIRROR if self.family == "ubuntu" else DEBIAN_MIRROR

    def sources(self) -> str:
        """The deb822 sources a fresh server of this release starts with."""
        if self.family == "ubuntu":
            keyring = "/usr/share/keyrings/ubuntu-archive-keyring.gpg"
            return (
                f"Types: deb\nURIs: {UBUNTU_MIRROR}\n"
                f"Suites: {self.codename} {self.codename}-updates\n"
                f"Components: main universe\nSigned-By: {keyring}\n\n"
                f"Types: deb\nURIs: {UBUNTU_SECURITY}\nSuites: {self.codename}-security\n"
                f"Components: main universe\nSigned-By: {keyring}\n"
            )
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        return (
            f"Types: deb\nURIs: {DEBIAN_MIRROR}\n"
            f"Suites: {self.codename} {self.codename}-updates\n"
            f"Components: main\nSigned-By: {keyring}\n\n"
            f"Types: deb\nURIs: {DEBIAN_SECURITY}\nSuites: {self.codename}-security\n"
            f"Components: main\nSigned-By: {keyring}\n"
        )


DISTROS = {
    d.key: d
    for d in (
        Distro("ubuntu-26.04", "ubuntu", "resolute", "26.04"),
        Distro("ubuntu-24.04", "ubuntu", "noble", "24.04"),
        Distro("debian-13", "debian", "trixie", "13"),
        Distro("debian-12", "debian", "bookworm", "12"),
    )
}
DEFAULT_DISTRO = "ubuntu-26.04"


def get_distro(key: str) -> Distro:
    try:
        return DISTROS[key]
    except KeyError:
        raise UsageError(f"unknown distro {key!r}: choose one of {', '.join(DISTROS)}") from None


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_image(paths: SandboxPaths, distro: Distro, log: Callable[[str], None]) -> Path:
    """Return the cached root filesystem for distro, building it first if needed."""
    root = paths.image(distro.key)
    stamp = root.parent / "recipe"
    with locked(paths.lock(f"image-{distro.key}")):
        if root.is_dir() and stamp.is_file() and stamp.read_text().strip() == str(IMAGE_RECIPE):
            return root
        started = time.monotonic()
        log(f"building the {distro.key} image (once; cached in {root.parent})")
        shutil.rmtree(root.parent, ignore_errors=True)
        building = root.parent.with_name(root.parent.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        _debootstrap(paths, distro, building / "rootfs")
        _customise(paths, distro, building / "rootfs")
        (building / "recipe").write_text(f"{IMAGE_RECIPE}\n")
        building.rename(root.parent)
        log(f"built the {distro.key} image in {time.monotonic() - started:.0f} s")
        return root


def _debootstrap(paths: SandboxPaths, distro: Distro, target: Path) -> None:
    args = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(BASE_PACKAGES)}",
        f"--cache-dir={paths.apt_archives(distro.key)}",
    ]
    paths.apt_archives(distro.key).mkdir(parents=True, exist_ok=True)
    if distro.family == "ubuntu":
        keyring = _ubuntu_keyring(paths)
        args += [
            f"--keyring={keyring}",
            "--components=main,universe",
            distro.codename,
            str(target),
            distro.mirror,
            # Debian's debootstrap has no script for new Ubuntu releases; gutsy's serves them all.
            "/usr/share/debootstrap/scripts/gutsy",
        ]
    else:
        args += ["--components=main", distro.codename, str(target), distro.mirror]
    proc = system.run(args, check=False, timeout=1800)
    if proc.returncode != 0:
        log_file = target / "debootstrap" / "debootstrap.log"
        tail = log_file.read_text().strip().splitlines()[-3:] if log_file.is_file() else []
        detail = " | ".join(tail) or (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise OperationFailed(f"debootstrap of {distro.key} from {distro.mirror} failed: {detail}")


def _ubuntu_keyring(paths: SandboxPaths) -> Path:
    keyring = paths.cache / "ubuntu-archive-keyring.gpg"
    if keyring.is_file():
        return keyring
    url = f"{UBUNTU_MIRROR}/{UBUNTU_KEYRING_DEB}"
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (fixed http URL, checksum pinned)
            data = response.read()
    except OSError as exc:
        raise OperationFailed(
            f"cannot fetch the Ubuntu archive keyring from {url}: {exc} "
            "(Ubuntu sandboxes need the Ubuntu archive; Debian ones do not)"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != UBUNTU_KEYRING_SHA256:
        raise OperationFailed(f"{url}: checksum {digest} is not the pinned {UBUNTU_KEYRING_SHA256}")
    with tempfile.TemporaryDirectory() as tmp:
        deb = Path(tmp) / "keyring.deb"
        deb.write_bytes(data)
        system.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "x")])
        extracted = Path(tmp) / "x/usr/share/keyrings/ubuntu-archive-keyring.gpg"
        keyring.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(extracted, keyring)
    return keyring


def controller_extra_cas(image_root: Path) -> list[str]:
    """PEM certificates the controller trusts that the image does not.

    A TLS-intercepting proxy (common in companies, and on the machines djops is built on) is
    trusted by the controller; hosts behind it need the same CA for pip and uv to work.
    """

    def blocks(path: Path) -> list[str]:
        if not path.is_file():
            return []
        text = path.read_text(errors="replace")
        out, current = [], []
        for line in text.splitlines():
            if "BEGIN CERTIFICATE" in line:
                current = [line]
            elif current:
                current.append(line)
                if "END CERTIFICATE" in line:
                    out.append("\n".join(current) + "\n")
                    current = []
        return out

    bundle = "etc/ssl/certs/ca-certificates.crt"
    known = set(blocks(image_root / bundle))
    return [pem for pem in blocks(Path("/") / bundle) if pem not in known]


def _customise(paths: SandboxPaths, distro: Distro, root: Path) -> None:
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    sources_name = "ubuntu.sources" if distro.family == "ubuntu" else "debian.sources"
    (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/apt/sources.list.d" / sources_name).write_text(distro.sources())
    if distro.family == "ubuntu":
        keyring = root / "usr/share/keyrings/ubuntu-archive-keyring.gpg"
        if not keyring.exists():
            shutil.copyfile(_ubuntu_keyring(paths), keyring)
    # apt-get keeps what it downloads; the shared archive cache depends on it.
    (root / "etc/apt/apt.conf.d/90djops-keep-debs").write_text(
        'Binary::apt::APT::Keep-Downloaded-Packages "true";\n'
        'APT::Keep-Downloaded-Packages "true";\n'
    )
    extra = controller_extra_cas(root)
    if extra:
        ca_dir = root / "usr/local/share/ca-certificates/djops-controller"
        ca_dir.mkdir(parents=True, exist_ok=True)
        for index, pem in enumerate(extra):
            (ca_dir / f"controller-{index:03d}.crt").write_text(pem)
    pubkey = paths.ensure_ssh_key().read_text().strip()
    script = f"""
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get -q update
apt-get -q -y -o Dpkg::Options::=--force-confold dist-upgrade
update-ca-certificates >/dev/null
id {ADMIN_USER} >/dev/null 2>&1 ||\
  useradd --create-home --shell /bin/bash --groups sudo {ADMIN_USER}
install -d -m 0700 -o {ADMIN_USER} -g {ADMIN_USER} /home/{ADMIN_USER}/.ssh
printf '%s\\n' '{pubkey}' > /home/{ADMIN_USER}/.ssh/authorized_keys
chown {ADMIN_USER}:{ADMIN_USER} /home/{ADMIN_USER}/.ssh/authorized_keys
chmod 0600 /home/{ADMIN_USER}/.ssh/authorized_keys
printf '%s\\n' '{ADMIN_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-admin
chmod 0440 /etc/sudoers.d/90-cloud-admin
visudo -cf /etc/sudoers.d/90-cloud-admin >/dev/null
systemctl enable ssh.service >/dev/null 2>&1 || true
echo 'LANG=C.UTF-8' > /etc/default/locale
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
"""
    proc = system.run(
        [
            "systemd-nspawn",
            "--quiet",
            "--register=no",
            "--keep-unit",
            "--resolv-conf=copy-host",
            f"--bind={paths.apt_archives(distro.key)}:/var/cache/apt/archives",
            "-D",
            str(root),
            "/bin/sh",
            "-c",
            script,
        ],
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"},
        timeout=1800,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise OperationFailed(f"preparing the {distro.key} image failed: {' | '.join(tail)}")
