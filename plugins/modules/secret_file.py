#!/usr/bin/python
# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Module djops.django.secret_file: a random secret made on the host, once."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: secret_file
short_description: Make a random secret in a file on the host, once
description:
  - Creates O(path) holding a random URL-safe token of O(nbytes) random bytes (Python's
    C(secrets.token_urlsafe), no line break), readable and writable by its owner only (mode
    C(0600)), owned by the user the module runs as (root, with become).
  - Leaves an existing file alone, whatever it holds, so a secret is made once and kept.
  - The secret is made on the host and never leaves it through this module. It is neither
    returned nor logged, and no argument carries it.
  - The file appears whole or not at all. It is written under a temporary name in the same
    directory and linked into place only if O(path) is still free. Of two runs at once, one
    makes the secret and the other reports no change.
version_added: 0.2.0
author: djops maintainers (@djops)
options:
  path:
    description: The file to create. Its directory must exist.
    type: path
    required: true
  nbytes:
    description: How many random bytes the token encodes (the file holds about 1.3 characters
      per byte).
    type: int
    default: 32
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the file would be made, and makes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Make the app's database password on the host, unless it has one
  djops.django.secret_file:
    path: /etc/djops/secrets/notes/postgres_password

- name: Make a longer secret
  djops.django.secret_file:
    path: /etc/djops/secrets/notes/secret_key
    nbytes: 64
"""

RETURN = r"""
path:
  description: The file, as given.
  returned: always
  type: str
  sample: /etc/djops/secrets/notes/postgres_password
"""

import os
import secrets
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


def make_secret(path: Path, nbytes: int) -> bool:
    """Create `path` holding a new token unless it exists; whether this call created it."""
    if os.path.lexists(path):
        return False
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, secrets.token_urlsafe(nbytes).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)  # never replaces: another run's secret stays
        except FileExistsError:
            return False
    finally:
        temporary.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "nbytes": {"type": "int", "default": 32},
        },
        supports_check_mode=True,
    )
    path = Path(module.params["path"])
    nbytes = module.params["nbytes"]
    if nbytes < 16:
        module.fail_json(msg=f"nbytes is {nbytes}: a secret needs at least 16 random bytes")
    if not path.parent.is_dir():
        module.fail_json(msg=f"{path.parent} is not a directory: create it before the secret in it")
    if module.check_mode:
        module.exit_json(changed=not os.path.lexists(path), path=str(path))
    try:
        changed = make_secret(path, nbytes)
    except OSError as error:
        module.fail_json(msg=f"could not make {path}: {error.strerror}")
    module.exit_json(changed=changed, path=str(path))


if __name__ == "__main__":
    main()
