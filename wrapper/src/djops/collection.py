"""Where the Ansible collection djops.django comes from.

An installed djops carries the collection inside the package (the wheel copies it in), so it
needs no checkout and no Galaxy. Run from a checkout (an editable install), the checkout itself
is the collection, linked into place under .ansible/collections.
"""

from __future__ import annotations

from pathlib import Path

from djops.errors import OperationFailed

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED = PACKAGE_DIR / "collection"


def _checkout_root() -> Path | None:
    root = PACKAGE_DIR.parents[2]  # wrapper/src/djops -> the repository
    return root if (root / "galaxy.yml").is_file() and (root / "roles").is_dir() else None


def collections_path() -> Path:
    """A directory to put in ANSIBLE_COLLECTIONS_PATH so that djops.django resolves."""
    if (BUNDLED / "ansible_collections/djops/django/galaxy.yml").is_file():
        return BUNDLED
    root = _checkout_root()
    if root is None:
        raise OperationFailed(
            "the djops.django collection is missing from this installation (reinstall djops)"
        )
    base = root / ".ansible" / "collections"
    link = base / "ansible_collections" / "djops" / "django"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../../../.."), target_is_directory=True)
    return base


def collection_dir() -> Path:
    return (collections_path() / "ansible_collections" / "djops" / "django").resolve()


def playbook(name: str) -> Path:
    path = collection_dir() / "playbooks" / name
    if not path.is_file():
        raise OperationFailed(f"playbook {name} is missing from the djops.django collection")
    return path
