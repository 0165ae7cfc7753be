"""Put a release's collected static files where nginx serves them.

Run by the app role right after ``collectstatic``, as
``djops-<app>-manage --release ID --build shell -c "$(cat relocate_static.py)"`` for a release
being built: as the build user, with the release writable and ``STATIC_ROOT`` in the environment
set to the directory nginx serves the release's static files from (``releases/<id>/static``).
Most projects' settings read that variable; many fix ``STATIC_ROOT`` themselves instead
(``BASE_DIR / "staticfiles"``, as the common project templates do, often with WhiteNoise serving
from there). Such a directory inside the release is moved to where nginx serves, and a relative
symlink is left in its place, so the settings, the manifest and WhiteNoise find the same files
where they look for them. A ``STATIC_ROOT`` outside the release, or a ``static/`` directory of
the project's own in the way, is left as it is: the deploy's static check then names the
setting. Prints ``djops-static: moved OLD to NEW`` when it moved them.

``collectstatic`` itself runs as its own command before, so that settings which treat it apart
(``"collectstatic" in sys.argv``) see it as always.
"""

import os
from pathlib import Path

from django.conf import settings


def relocate(root: Path, served: Path) -> bool:
    """Move the collected files at ``root`` to ``served`` when that is safe; True when moved."""
    if not root.is_absolute() or root.is_symlink() or not root.is_dir():
        return False
    release = served.parent.resolve()
    root = root.resolve()
    if root == served.resolve() or root == release or not root.is_relative_to(release):
        return False
    if served.is_symlink() or served.is_file():
        return False
    if served.is_dir():
        if any(served.iterdir()):
            return False
        served.rmdir()
    root.rename(served)
    root.symlink_to(os.path.relpath(served, root.parent), target_is_directory=True)
    return True


def main() -> None:
    served = os.environ.get("STATIC_ROOT", "")
    root = getattr(settings, "STATIC_ROOT", None)
    if served and root and relocate(Path(str(root)), Path(served)):
        print(f"djops-static: moved {root} to {served}", flush=True)


main()
