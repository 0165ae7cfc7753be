"""Running ansible-playbook on this machine from the tests, with the checkout as djops.django.

Each run keeps Ansible's home and temporary files in the test's own directory.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".ansible" / "collections"


def ansible_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for an ansible-playbook run of a test: this machine's, plus these."""
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        **extra,
    }
