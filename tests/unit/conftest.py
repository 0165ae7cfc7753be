"""Unit tests of the collection's plugins.

The plugins import each other as ``ansible_collections.djops.django.…``; scripts/bootstrap links
the checkout as that collection under .ansible/collections, which goes on the import path here.
"""

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[2] / ".ansible" / "collections"
if not (COLLECTIONS / "ansible_collections" / "djops" / "django").exists():
    raise SystemExit(f"{COLLECTIONS} does not hold djops.django: run scripts/bootstrap first")
sys.path.insert(0, str(COLLECTIONS))
