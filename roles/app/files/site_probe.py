"""What a deploy checks in a release's own settings before visitors reach it.

Run by the app role as ``djops-<app>-manage --release ID shell -c "$(cat site_probe.py)"`` with
``DJOPS_PROBE`` set to what to check (``static``, ``cache``, comma-separated) and
``DJOPS_STATIC_DIR`` to the directory nginx serves the release's static files from: as the app's
user, in the app's sandbox and environment, so it sees what the app server will. Prints one
line, ``djops-probe: {JSON}``:

- ``static``: STATIC_ROOT and STATIC_URL as the settings have them, one collected file (relative
  to STATIC_ROOT): from the staticfiles manifest when there is one (a hashed name, as pages link
  it), else the first file found; and whether that file is in the directory nginx serves;
- ``cache``: for each cache of CACHES that stores anything (not DummyCache), whether a value
  written with the release's own settings is read back, and the error when one was raised.
  Backends that swallow errors (django-redis' IGNORE_EXCEPTIONS) give None back, not an error.
"""

import json
import os
import secrets
from pathlib import Path

from django.conf import settings

MARK = "djops-probe: "
# Compressed copies next to the files (WhiteNoise, django-compressor) are not what pages link.
SKIPPED_SUFFIXES = (".gz", ".br", ".zst")


def collected_file(root: Path) -> tuple[str, bool]:
    """One file of the collected set, relative to ``root``, and whether a manifest named it."""
    manifest = root / "staticfiles.json"
    try:
        paths = json.loads(manifest.read_text(encoding="utf-8")).get("paths", {})
    except (OSError, ValueError, AttributeError):
        paths = {}
    for name in sorted(paths.values()) if isinstance(paths, dict) else []:
        if isinstance(name, str) and not name.endswith(SKIPPED_SUFFIXES):
            return name, True
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and path.name != manifest.name and not path.name.endswith(SKIPPED_SUFFIXES):
            return path.relative_to(root).as_posix(), False
    return "", False


def static_report() -> dict:
    root = getattr(settings, "STATIC_ROOT", None) or ""
    name, from_manifest = collected_file(Path(root)) if root else ("", False)
    served = Path(os.environ.get("DJOPS_STATIC_DIR", "/nonexistent"))
    return {
        "root": str(root),
        "url": str(getattr(settings, "STATIC_URL", "") or ""),
        "file": name,
        "manifest": from_manifest,
        "served": bool(name) and (served / name).is_file(),
    }


def cache_report() -> list:
    from django.core.cache import caches

    report = []
    for alias, options in settings.CACHES.items():
        backend = str(options.get("BACKEND", ""))
        if backend.endswith(".DummyCache"):
            continue
        key = "djops-deploy-check-" + secrets.token_hex(8)
        value = secrets.token_hex(8)
        error = ""
        read = None
        try:
            cache = caches[alias]
            cache.set(key, value, 60)
            read = cache.get(key)
            cache.delete(key)
        except Exception as exc:  # any error of the backend is the finding
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        report.append({"alias": alias, "backend": backend, "ok": read == value, "error": error})
    return report


def main() -> None:
    wanted = set(filter(None, os.environ.get("DJOPS_PROBE", "static,cache").split(",")))
    result = {}
    if "static" in wanted:
        result["static"] = static_report()
    if "cache" in wanted:
        result["cache"] = cache_report()
    print(MARK + json.dumps(result), flush=True)


main()
