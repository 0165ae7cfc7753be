"""The code a deploy sends: an archive of the project's git HEAD, or of a directory."""

from __future__ import annotations

import fnmatch
import getpass
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

from djops.errors import UsageError

EXCLUDED = {".git", ".venv", "venv", "__pycache__", "node_modules", ".mypy_cache", ".ruff_cache"}

# Files a directory deploy refuses to send unless .gitignore leaves them out (or the deploy names
# them with --include-file): environment files, private keys and keystores, SQLite databases,
# credential files, and anything in a directory of keys or cloud credentials. Matched on the
# file's name, without regard to case.
SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.sqlite",
    "*.sqlite3",
    "*.sqlite3-journal",
    "*.sqlite3-wal",
    ".netrc",
    ".pgpass",
    ".pypirc",
    ".htpasswd",
    ".git-credentials",
    "credentials",
    "credentials.json",
)
# Templates of these files and public keys hold no secret.
NOT_SECRET_NAMES = (".env.example", ".env.sample", ".env.template", ".env.dist", "id_*.pub")
SECRET_DIRS = {".ssh", ".aws", ".gnupg", ".docker"}
_SHOWN = 10
# Tracked files, and untracked ones .gitignore, .git/info/exclude and core.excludesFile keep.
_GIT_LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")


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


def from_path(directory: Path, include_files: Iterable[str] = ()) -> Source:
    """Archive a directory as it is, as git would see it: what .gitignore ignores, VCS data,
    virtualenvs and caches are left out. Refuses symlinks that point outside the directory
    and files that look like secrets (unless include_files, relative paths, names them)."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    root = directory.resolve()
    listed = _git_files(root)
    files = sorted(
        {
            name
            for name in (_walk(root, root) if listed is None else listed)
            if not _excluded(name) and ((root / name).is_symlink() or (root / name).is_file())
        }
    )
    problems = _outside_links(root, files) + _secrets(root, files, include_files)
    if problems:
        raise UsageError("\n".join(problems))
    if not files:
        raise UsageError(f"{root}: no files to send (are they all ignored by .gitignore?)")
    archive = Path(tempfile.mkdtemp(prefix="djops-src-")) / "path.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in files:
            tar.add(root / name, arcname=name, recursive=False)
    return Source(archive=archive, ref=f"path:{root}", dirty=False, deployer=getpass.getuser())


def _excluded(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p in EXCLUDED for p in parts) or name.endswith(".pyc")


def _git_files(root: Path) -> list[str] | None:
    """The files git sees in root (tracked, and untracked but not ignored), relative to root;
    None when root is not in a git work tree (or git is missing)."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *_GIT_LS_FILES],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if proc.returncode != 0:
        return None
    names = []
    for name in os.fsdecode(proc.stdout).split("\0"):
        path = root / name
        if not name or not os.path.lexists(path):  # tracked, but deleted since
            continue
        if path.is_dir() and not path.is_symlink():  # a submodule: git lists only its directory
            names.extend(_walk(root, path))
        else:
            names.append(name)
    return names


def _walk(root: Path, top: Path) -> Iterator[str]:
    """The files below top, relative to root, leaving out what its .gitignore files ignore
    (each applies to its own directory and below, the deeper one deciding first)."""
    specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    for here, dirs, names in os.walk(top):
        base = Path(here)
        specs = [(d, s) for d, s in specs if base == d or d in base.parents]
        ignore_file = base / ".gitignore"
        if ignore_file.is_file():
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            specs.append((base, pathspec.GitIgnoreSpec.from_lines(lines)))

        kept_dirs = []
        for name in sorted(dirs):
            path = base / name
            if name in EXCLUDED or _ignored(specs, path, is_dir=not path.is_symlink()):
                continue
            if path.is_symlink():  # sent as a link, never followed
                yield path.relative_to(root).as_posix()
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(names):
            path = base / name
            if not _ignored(specs, path, is_dir=False):
                yield path.relative_to(root).as_posix()


def _ignored(specs: list[tuple[Path, pathspec.GitIgnoreSpec]], path: Path, is_dir: bool) -> bool:
    """Whether the .gitignore files that apply ignore path: the deepest one that has a pattern
    matching it decides, by its last matching pattern."""
    for spec_dir, spec in reversed(specs):
        rel = path.relative_to(spec_dir).as_posix() + ("/" if is_dir else "")
        result = spec.check_file(rel)
        if result.include is not None:
            return result.include
    return False


def _outside_links(root: Path, files: list[str]) -> list[str]:
    """A problem naming the symlinks whose target is not inside root: on the server they would
    reach files of the server's (an absolute target is outside the release there)."""
    bad = []
    for name in files:
        path = root / name
        if not path.is_symlink():
            continue
        target = path.readlink()
        resolved = path.resolve()
        if target.is_absolute() or not (resolved == root or root in resolved.parents):
            bad.append(f"{name} -> {target}")
    if not bad:
        return []
    return [
        f"{root}: symlinks that point outside the project: {_listing(bad)} "
        "(copy the files they point to into the project, or make them relative links inside it)"
    ]


def looks_secret(name: str) -> bool:
    """Whether a relative path names a file that usually holds a secret."""
    path = PurePosixPath(name.lower())
    if any(part in SECRET_DIRS for part in path.parts[:-1]):
        return True
    if any(fnmatch.fnmatchcase(path.name, p) for p in NOT_SECRET_NAMES):
        return False
    return any(fnmatch.fnmatchcase(path.name, p) for p in SECRET_NAMES)


def _secrets(root: Path, files: list[str], include_files: Iterable[str]) -> list[str]:
    wanted = {PurePosixPath(os.path.normpath(n)).as_posix() for n in include_files}
    problems = []
    unknown = sorted(wanted.difference(files))
    if unknown:
        problems.append(
            f"{root}: --include-file {', '.join(unknown)}: not a file that would be sent "
            "(give the path relative to the project directory; a file .gitignore ignores is "
            "never sent)"
        )
    secret = [n for n in files if looks_secret(n) and n not in wanted]
    if secret:
        problems.append(
            f"{root}: refusing to send files that look like secrets: {_listing(secret)} "
            "(add them to .gitignore, or send one anyway with --include-file PATH)"
        )
    return problems


def _listing(items: list[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {more} more" if more > 0 else "")
