"""Finding things around the config file: the file itself, the repository root, and the Python
version the project asks for when the file does not say.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from djops.config.constants import CONFIG_RELPATH
from djops.config.models import ProjectConfig
from djops.errors import UsageError

_PYTHON_VERSION_FILE_RE = re.compile(r"(?:cpython-|python)?(3\.\d{1,2}(?:\.\d{1,3})?)(?:[-+].*)?")


def find_config(start: Path) -> Path:
    """Look for deploy/djops.yml in `start` and each directory above it, like git does.

    The path returned is relative when `start` is (``deploy/djops.yml``, ``../deploy/djops.yml``),
    so messages show it the way the user would type it.
    """
    here = start.absolute()
    for levels, directory in enumerate([here, *here.parents]):
        candidate = directory / CONFIG_RELPATH
        if candidate.is_file():
            if start.is_absolute():
                return candidate
            return Path(start, *[".."] * levels, CONFIG_RELPATH)
    raise UsageError(
        f"no {CONFIG_RELPATH} in {here} or any directory above it; run djops inside your "
        "Django project, or give the file with -c PATH"
    )


def resolve_config_path(given: Path | None, cwd: Path | None = None) -> Path:
    """The config file to use: the one given with -c, or the nearest deploy/djops.yml."""
    return given if given is not None else find_config(cwd if cwd is not None else Path())


def project_root(config_path: Path) -> Path:
    """The repository root that project_dir and requirements are relative to.

    That is the directory holding deploy/ when the file is in a directory named deploy,
    otherwise the directory the file is in.
    """
    directory = config_path.parent
    return directory.parent if directory.name == "deploy" else directory


def _python_from_project(root: Path) -> tuple[str | None, str]:
    """(version, where it came from) from .python-version or pyproject's requires-python."""
    version_file = root / ".python-version"
    if version_file.is_file():
        lines = [
            line.strip()
            for line in version_file.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if lines:
            found = _PYTHON_VERSION_FILE_RE.fullmatch(lines[0])
            return (found.group(1) if found else None, f".python-version says {lines[0]!r}")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return (None, "pyproject.toml cannot be parsed")
        spec = data.get("project", {}).get("requires-python")
        if isinstance(spec, str):
            # The specifier itself goes to the server: uv picks the distro's Python when it
            # satisfies it, and only otherwise a managed one.
            usable = _lowest_python(spec) is not None
            return (spec.replace(" ", "") if usable else None, f"requires-python is {spec!r}")
    return (None, "there is no .python-version and no requires-python in pyproject.toml")


def _lowest_python(spec: str) -> str | None:
    """The lowest 3.x release a requires-python specifier allows, as "3.12" (or "3.12.4" for ==)."""
    best: tuple[int, ...] | None = None
    exact = None
    for clause in spec.split(","):
        found = re.fullmatch(r"\s*(>=|~=|==)\s*(3)\.(\d+)(?:\.(\d+))?(\.\*)?\s*", clause)
        if not found:
            continue
        operator, major, minor, patch, star = found.groups()
        if operator == "==" and patch is not None and not star:
            exact = f"{major}.{minor}.{patch}"
        candidate = (int(major), int(minor))
        best = candidate if best is None or candidate > best else best
    if exact:
        return exact
    return f"{best[0]}.{best[1]}" if best else None


def resolve_python(config: ProjectConfig, root: Path) -> str:
    """The Python version to deploy: python: from the file, else what the project pins."""
    if config.python is not None:
        return config.python
    version, origin = _python_from_project(root)
    if version is None:
        raise UsageError(
            f"python: not set, and the project does not say which version it needs ({origin}); "
            'set python: "3.12" (for example) in the config'
        )
    return version
