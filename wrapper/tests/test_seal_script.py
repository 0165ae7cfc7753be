"""djops-<app>-seal (roles/appserver/templates/seal.sh.j2), rendered and run on a real tree.

Needs root (it hands files to root and the app's group) and setfacl; the app's group here is
`daemon` and the web server's `www-data`, groups every Debian and Ubuntu system has.
"""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
from pathlib import Path

import jinja2
import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "roles/appserver/templates/seal.sh.j2"
APP, WEB = "daemon", "www-data"


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setfacl") or not _group_exists(WEB),
    reason="needs root, setfacl (package acl) and the group www-data",
)


@pytest.fixture
def seal(tmp_path):
    """Render the script for an app whose directory is tmp_path/srv; return a runner."""
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True)  # noqa: S701 (a shell script)
    env.filters["comment"] = lambda text: f"# {text}"
    script = tmp_path / "seal"
    script.write_text(
        env.from_string(TEMPLATE.read_text()).render(
            ansible_managed="managed",
            appserver_app=APP,
            appserver_socket_group=WEB,
            __appserver_dir=str(tmp_path / "srv"),
        )
    )
    (tmp_path / "srv" / "releases").mkdir(parents=True)
    (tmp_path / "srv" / "shared" / "media").mkdir(parents=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(script), *args], capture_output=True, text=True, check=False
        )

    return run


def release(root: Path, name: str, built: bool = True) -> Path:
    """A release as an earlier djops left it: open to every account, static files collected."""
    top = root / "srv" / "releases" / name
    for path, text in {
        "notes/settings.py": "SECRET = 1\n",
        "static/css/site.css": "body {}\n",
    }.items():
        (top / path).parent.mkdir(parents=True, exist_ok=True)
        (top / path).write_text(text)
    (top / ".venv" / "bin").mkdir(parents=True)
    (top / ".venv" / "bin" / "python").symlink_to("/usr/bin/python3")
    if built:
        (top / ".djops-built").touch()
    for path in [top, *top.rglob("*")]:
        if not path.is_symlink():
            os.chown(path, 12345, 12345)  # the build's owner
            path.chmod(0o755 if path.is_dir() else 0o644)
    return top


def acl(path: Path, default: bool = False) -> list[str]:
    args = ["getfacl", "--omit-header", "--absolute-names", *(["--default"] if default else [])]
    return subprocess.run(
        [*args, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()


def test_seal_hands_the_release_to_root_and_the_app_and_only_static_to_the_web_server(
    seal, tmp_path
):
    top = release(tmp_path, "r1", built=False)
    result = seal("r1")
    assert result.returncode == 0, result.stderr
    app_gid = grp.getgrnam(APP).gr_gid
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            continue
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (0, app_gid), path
        assert not info.st_mode & (stat.S_IRWXO | stat.S_IWGRP), f"{path}: {oct(info.st_mode)}"
    assert (top / ".djops-built").is_file()
    assert f"group:{WEB}:--x" in acl(top)
    assert f"group:{WEB}:r-x" in acl(top / "static")
    assert f"group:{WEB}:r-x" in acl(top / "static" / "css")
    assert f"group:{WEB}:r--" in acl(top / "static" / "css" / "site.css")
    assert not any(WEB in entry for entry in acl(top / "notes" / "settings.py"))
    assert not any(WEB in entry for entry in acl(top / "notes"))


def test_seal_all_seals_built_releases_left_open_once_and_leaves_builds_alone(seal, tmp_path):
    release(tmp_path, "rold")
    building = release(tmp_path, "rnew", built=False)
    first = seal("--all")
    assert (first.returncode, first.stdout) == (0, "rold\n"), first.stderr
    assert stat.S_IMODE(building.stat().st_mode) == 0o755
    assert building.stat().st_uid == 12345
    second = seal("--all")
    assert (second.returncode, second.stdout) == (0, "")


def test_seal_all_gives_earlier_upload_directories_the_default_acl(seal, tmp_path):
    media = tmp_path / "srv" / "shared" / "media"
    (media / "uploads" / "2024").mkdir(parents=True)
    (media / "uploads" / "2024" / "photo.jpg").write_bytes(b"")
    first = seal("--all")
    assert first.stdout.splitlines() == [str(media / "uploads"), str(media / "uploads" / "2024")]
    assert f"group:{WEB}:r-x" in acl(media / "uploads" / "2024", default=True)
    assert seal("--all").stdout == ""


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../x", "not a release name"),
        (".", "not a release name"),
        ("rmissing", "no release rmissing"),
    ],
)
def test_seal_refuses_what_is_not_a_release(seal, name, message):
    result = seal(name)
    assert result.returncode == 2
    assert message in result.stderr


def test_links_the_build_left_lead_nowhere(seal, tmp_path):
    # The build user owned the release: a static/ or a mark that is a link to a file of the
    # system must not hand that file to the app's group or open it to the web server.
    outside = tmp_path / "outside"
    (outside / "static").mkdir(parents=True)
    (outside / "static" / "secret").write_text("root's\n")
    (outside / "mark").write_text("root's\n")
    for path in [outside, *outside.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    top = release(tmp_path, "r1", built=False)
    shutil.rmtree(top / "static")
    (top / "static").symlink_to(outside / "static")
    (top / ".djops-built").symlink_to(outside / "mark")

    result = seal("r1")

    assert result.returncode == 0, result.stderr
    for path in (outside / "static", outside / "static" / "secret", outside / "mark"):
        info = path.stat()
        assert (info.st_uid, info.st_gid) == (0, 0), path
        acl = subprocess.run(
            ["getfacl", "--omit-header", "--absolute-names", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert WEB not in acl, (path, acl)
    mark = top / ".djops-built"
    assert not mark.is_symlink()
    assert mark.stat().st_gid == grp.getgrnam(APP).gr_gid


def test_seal_gives_a_file_shared_with_another_tree_an_inode_of_its_own(seal, tmp_path):
    # Venvs hard-linked from one package cache shared their files with every other app's release:
    # sealing one app's release must not hand the other's (or the cache's) file to its group.
    cache = tmp_path / "cache"
    cache.mkdir()
    shared = cache / "django.py"
    shared.write_text("VERSION = 6\n")
    shared.chmod(0o644)
    top = release(tmp_path, "r1")
    (top / ".venv" / "django.py").hardlink_to(shared)
    os.chown(shared, 0, 0)

    assert seal("r1").returncode == 0

    own = top / ".venv" / "django.py"
    assert own.read_text() == "VERSION = 6\n"
    assert own.stat().st_ino != shared.stat().st_ino
    assert own.stat().st_nlink == 1
    assert own.stat().st_gid == grp.getgrnam(APP).gr_gid
    assert (shared.stat().st_uid, shared.stat().st_gid) == (0, 0)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644


def test_seal_all_unshares_a_sealed_release_that_still_shares_a_file(seal, tmp_path):
    # Releases sealed by an earlier djops on a host whose apps shared the package cache.
    top = release(tmp_path, "r1")
    assert seal("r1").returncode == 0
    (tmp_path / "elsewhere").hardlink_to(top / "notes" / "settings.py")

    result = seal("--all")

    assert result.stdout.split() == ["r1"]
    assert (top / "notes" / "settings.py").stat().st_nlink == 1
    assert seal("--all").stdout == ""
