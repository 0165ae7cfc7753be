"""roles/app/files/relocate_static.py, run as a build runs it: manage.py collectstatic, then
manage.py shell -c with the program, in a real Django project (made here) whose release directory
is tmp_path/release, with STATIC_ROOT in the environment naming the directory nginx serves
(release/static)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

COLLECTION = Path(__file__).resolve().parents[2]
PROGRAM = COLLECTION / "roles" / "app" / "files" / "relocate_static.py"

SETTINGS = """
import os
SECRET_KEY = "x" * 50
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = "static/"
STATICFILES_DIRS = [{assets!r}]
STATIC_ROOT = {static_root}
STORAGES = {{
    "default": {{"BACKEND": "django.core.files.storage.FileSystemStorage"}},
    "staticfiles": {{"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}},
}}
"""


def run(release: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """collectstatic, then relocate_static.py, as a build runs them, in the release, with its
    settings; the result of the second (or of the first when it failed)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shown_settings",
        "PYTHONPATH": str(release),
        "STATIC_ROOT": str(release / "static"),
    }
    result = None
    for command in (
        ["collectstatic", "--noinput", "-v0"],
        ["shell", "-v0", "-c", PROGRAM.read_text()],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "django", *command],
            cwd=release,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )
        if result.returncode != 0:
            break
    return result


def build(tmp_path: Path, static_root: str) -> tuple[Path, str]:
    """A release with the project's own assets, collectstatic and relocate_static.py run in it:
    the release and what the program said (its djops-static: lines)."""
    release = tmp_path / "release"
    assets = release / "assets"
    (assets / "css").mkdir(parents=True)
    (assets / "css" / "site.css").write_text("body { color: black }\n")
    (release / "shown_settings.py").write_text(
        SETTINGS.format(assets=str(assets), static_root=static_root)
    )
    result = run(release)
    said = [line for line in result.stdout.splitlines() if line.startswith("djops-static: ")]
    return release, "\n".join(said)


def hashed_name(root: Path) -> str:
    return json.loads((root / "staticfiles.json").read_text())["paths"]["css/site.css"]


def test_static_root_fixed_in_the_release_is_moved_where_nginx_serves_it(tmp_path):
    release, said = build(tmp_path, repr(str(tmp_path / "release" / "staticfiles")))
    served = release / "static"
    fixed = release / "staticfiles"
    assert said == f"djops-static: moved {fixed} to {served}"
    assert served.is_dir() and not served.is_symlink()
    assert (served / hashed_name(served)).is_file()
    # The settings, the manifest storage and WhiteNoise still find the files where they look.
    assert fixed.is_symlink() and fixed.readlink() == Path("static")
    assert (fixed / hashed_name(fixed)).read_text() == "body { color: black }\n"


def test_settings_that_read_the_environment_are_left_as_they_are(tmp_path):
    release, said = build(tmp_path, 'os.environ["STATIC_ROOT"]')
    assert said == ""
    assert (release / "static" / hashed_name(release / "static")).is_file()
    assert not (release / "staticfiles").exists()


def test_a_static_directory_of_the_projects_own_is_not_replaced(tmp_path):
    own = tmp_path / "release" / "static"
    own.mkdir(parents=True)
    (own / "robots.txt").write_text("User-agent: *\n")
    release, said = build(tmp_path, repr(str(tmp_path / "release" / "staticfiles")))
    assert said == ""
    assert sorted(p.name for p in own.iterdir()) == ["robots.txt"]
    assert (release / "staticfiles").is_dir() and not (release / "staticfiles").is_symlink()


def test_static_root_outside_the_release_is_not_moved(tmp_path):
    outside = tmp_path / "var" / "www" / "static"
    release, said = build(tmp_path, repr(str(outside)))
    assert said == ""
    assert (outside / hashed_name(outside)).is_file() and not outside.is_symlink()
    assert not (release / "static").exists()


def test_an_empty_static_directory_gives_way(tmp_path):
    (tmp_path / "release" / "static").mkdir(parents=True)
    release, said = build(tmp_path, repr(str(tmp_path / "release" / "staticfiles")))
    assert said.startswith("djops-static: moved ")
    assert (release / "static" / hashed_name(release / "static")).is_file()


def test_settings_that_fail_to_load_fail_with_their_own_error(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    (release / "shown_settings.py").write_text(
        "from django.core.exceptions import ImproperlyConfigured\n"
        'raise ImproperlyConfigured("settings refused on purpose")\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "django", "shell", "-v0", "-c", PROGRAM.read_text()],
        cwd=release,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "shown_settings", "PYTHONPATH": str(release)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == "django.core.exceptions.ImproperlyConfigured: settings refused on purpose"
