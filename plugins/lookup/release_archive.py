# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Lookup djops.django.release_archive: what a deploy needs to know about its code archive."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: release_archive
short_description: The digest, kind and size of a release's code archive on the controller
description:
  - Reads an archive of an app's code on the controller, once, and returns its SHA-256 digest
    (a release is named after its content, so the same code is the same release), its kind
    (C(tgz), C(tar) or C(other), from its first bytes rather than its name) and its size in KiB,
    rounded up (the role sends small archives inline in the command that unpacks them).
version_added: 0.2.0
author: djops maintainers (@djops)
options:
  _terms:
    description: Paths of archives on the controller.
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Name the release after its code
  ansible.builtin.set_fact:
    release_id: "r{{ (lookup('djops.django.release_archive', app_archive)).sha256[:12] }}"
"""

RETURN = r"""
_raw:
  description: One mapping per archive.
  type: list
  elements: dict
  contains:
    sha256:
      description: The archive's SHA-256 digest, in hex.
      type: str
    kind:
      description: C(tgz) (gzip), C(tar) (a POSIX tar archive) or C(other).
      type: str
    kib:
      description: The archive's size in KiB, rounded up.
      type: int
"""

import hashlib
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

_CHUNK = 1 << 20


def archive_facts(path: str) -> dict[str, Any]:
    """The digest, kind and size in KiB of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with Path(path).open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if len(head) < 262:
                    head += chunk[: 262 - len(head)]
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:
        raise AnsibleLookupError(f"cannot read the archive {path}: {error.strerror}") from error
    if head[:2] == b"\x1f\x8b":
        kind = "tgz"
    elif head[257:262] == b"ustar":
        kind = "tar"
    else:
        kind = "other"
    return {"sha256": digest.hexdigest(), "kind": kind, "kib": (size + 1023) // 1024}


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list:
        self.set_options(var_options=variables, direct=kwargs)
        return [archive_facts(str(term)) for term in terms]
