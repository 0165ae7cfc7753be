"""The code a deploy sends: an archive of the project's git HEAD, or of a directory."""

from __future__ import annotations

import getpass
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from djops.errors import UsageError

EXCLUDED = {".git", ".venv", "venv", "__pycache__", "node_modules", ".mypy_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Source:
    archive: Path
    ref: str  # a commit id, or "path:<dir>" for a directory
    dirty: bool
    deployer: str


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise UsageError(
            f"{root}: git {' '.join(args)} failed: {proc.stderr.strip() or proc.returncode} "
            "(deploy a directory instead with --path)"
        )
    return proc.stdout.strip()


def from_git(project_root: Path, ref: str = "HEAD") -> Source:
    """Archive the project directory as committed at ref (what is not committed is not sent)."""
    prefix = _git(project_root, "rev-parse", "--show-prefix")
    toplevel = Path(_git(project_root, "rev-parse", "--show-toplevel"))
    commit = _git(project_root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    dirty = bool(_git(project_root, "status", "--porcelain", "--", "."))
    archive = Path(tempfile.mkdtemp(prefix="djops-src-")) / f"{commit[:12]}.tar.gz"
    tree = f"{commit}:{prefix}" if prefix else commit
    _git(toplevel, "archive", "--format=tar.gz", "-o", str(archive), tree)
    return Source(archive=archive, ref=commit, dirty=dirty, deployer=getpass.getuser())


def from_path(directory: Path) -> Source:
    """Archive a directory as it is, leaving out VCS data, virtualenvs and caches."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    archive = Path(tempfile.mkdtemp(prefix="djops-src-")) / "path.tar.gz"

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        parts = Path(info.name).parts
        return None if any(p in EXCLUDED or p.endswith(".pyc") for p in parts) else info

    with tarfile.open(archive, "w:gz") as tar:
        for child in sorted(directory.iterdir()):
            tar.add(child, arcname=child.name, filter=keep)
    return Source(
        archive=archive, ref=f"path:{directory.resolve()}", dirty=False, deployer=getpass.getuser()
    )
