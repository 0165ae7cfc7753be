"""Where sandbox state lives on the controller."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from djops.sandbox import system

DEFAULT_HOME = Path("/var/lib/djops/sandbox")


@dataclass(frozen=True)
class SandboxPaths:
    home: Path

    @classmethod
    def from_env(cls) -> SandboxPaths:
        return cls(Path(os.environ.get("DJOPS_SANDBOX_HOME", str(DEFAULT_HOME))))

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    def image(self, distro: str) -> Path:
        return self.home / "images" / distro / "rootfs"

    def apt_archives(self, distro: str) -> Path:
        # One archive cache per release: a host's apt installs reuse what any other downloaded.
        return self.cache / "apt" / distro

    @property
    def hosts(self) -> Path:
        return self.home / "hosts"

    def host(self, name: str) -> Path:
        return self.hosts / name

    def lock(self, name: str) -> Path:
        return self.home / "locks" / f"{name}.lock"

    @property
    def ssh_key(self) -> Path:
        return self.home / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.home / "known_hosts"

    @property
    def ssh_options(self) -> list[str]:
        """The options of every SSH connection to a sandbox host, as ssh's arguments: only the
        sandbox's key, and host-key checking on, against the keys recorded when hosts boot."""
        return [
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
        ]

    @property
    def ca_dir(self) -> Path:
        return self.home / "ca"

    @property
    def ca_certificate(self) -> Path:
        """The sandbox CA's certificate: the file clients trust for sandbox sites."""
        return self.ca_dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.ca_dir / "ca-key.pem"

    def ensure_ssh_key(self) -> Path:
        """The key every sandbox host's admin user accepts; returns the public half."""
        public = self.ssh_key.with_suffix(".pub")
        if not self.ssh_key.is_file():
            self.home.mkdir(parents=True, exist_ok=True)
            self.home.chmod(0o755)
            system.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "djops-sandbox",
                    "-f",
                    str(self.ssh_key),
                ]
            )
        return public
