"""Where the config file lives, the roles and services it names, and the ACME directories.

Any module of the package may import these; this module imports none of the others.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

CONFIG_RELPATH = PurePosixPath("deploy/djops.yml")
LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"

Role = Literal["web", "app", "db", "cache"]
Service = Literal["postgres", "redis"]
ALL_ROLES: tuple[Role, ...] = ("web", "app", "db", "cache")
ALL_SERVICES: tuple[Service, ...] = ("postgres", "redis")
# The role (and inventory group) of the hosts each service runs on.
SERVICE_ROLE: dict[Service, Role] = {"postgres": "db", "redis": "cache"}
