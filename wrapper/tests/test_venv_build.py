"""roles/app/files/venv-build.sh run on a real tree, with stand-ins for uv and the manage helper.

It reads a release's requirements as the build user, which reaches the app's directory only
through the app's group, and keys the venv on them and on the Python: a release on another Python
must get a venv of its own, never the earlier release's. Needs root (the script switches to the
build user) and setpriv; the build user here is an account of this machine that is a member of a
group other than its own, which plays the app's group.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles/app/files/venv-build.sh"

# `uv python find VERSION` prints the pythonVERSION beside it.
FAKE_UV = """#!/bin/sh
[ "$1 $2" = "python find" ] || { echo "fake uv: $*" >&2; exit 2; }
printf '%s\\n' "${0%/*}/python$3"
"""
# djops-<app>-manage --release ID --build --exec --no-env [--setenv NAME]... PROGRAM ARGS...:
# runs PROGRAM as root here (the sandbox is the molecule app scenario's business).
FAKE_MANAGE = """#!/bin/sh
while [ $# -gt 0 ]; do
    case $1 in
        --release|--setenv) shift 2 ;;
        --build|--exec|--no-env) shift ;;
        *) break ;;
    esac
done
exec "$@"
"""
# venv-install.sh's stand-in: a venv that tells which interpreter it was made with.
FAKE_INSTALL = 'mkdir "$3/.venv" && printf "%s\\n" "$2" > "$3/.venv/made-with"'


def _build_account() -> tuple[str, grp.struct_group] | None:
    """An account with a group of its own name and a supplementary group (the app's)."""
    for group in grp.getgrall():
        for member in group.gr_mem:
            try:
                account = pwd.getpwnam(member)
                own = grp.getgrnam(member)
            except KeyError:
                continue
            if own.gr_gid == account.pw_gid and group.gr_gid != account.pw_gid:
                return member, group
    return None


BUILD = _build_account()
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or BUILD is None,
    reason="needs root, setpriv and an account that is in a group other than its own",
)


@pytest.fixture
def site():
    """An app directory open to root and the app's group only, with tools and two Pythons."""
    user, app_group = BUILD
    # Not under pytest's tmp_path: its parents are root's alone, the build user could not pass.
    top = Path(tempfile.mkdtemp(prefix="djops-venv-build-", dir="/var/tmp"))
    top.chmod(0o755)
    tools = top / "tools"
    tools.mkdir()
    for name, text in {"uv": FAKE_UV, "manage": FAKE_MANAGE}.items():
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    pythons = {}
    for version in ("3.12", "3.14"):
        path = tools / f"python{version}"
        path.write_text("")
        pythons[version] = path
    app = top / "srv"
    (app / "releases").mkdir(parents=True)
    for path in (app, app / "releases"):
        os.chown(path, 0, app_group.gr_gid)
        path.chmod(0o750)
    home = top / "build-home"
    home.mkdir()
    try:
        yield {"user": user, "app": app, "tools": tools, "pythons": pythons, "home": home}
    finally:
        shutil.rmtree(top)


def _release(site, name: str, requirements: str = "Django>=5.2,<5.3\n") -> Path:
    """A release as build.yml unpacks it: the build user's, for no one else."""
    account = pwd.getpwnam(site["user"])
    top = site["app"] / "releases" / name
    top.mkdir(mode=0o700)
    (top / "requirements.txt").write_text(requirements)
    for path in (top, top / "requirements.txt"):
        os.chown(path, account.pw_uid, account.pw_gid)
    return top


def _seal(top: Path) -> None:
    """What djops-<app>-seal leaves: root's, and marked built."""
    (top / ".djops-built").touch()
    for path in [top, *top.rglob("*")]:
        os.chown(path, 0, 0, follow_symlinks=False)


def _build(site, top: Path, python: str, *earlier: Path) -> subprocess.CompletedProcess[str]:
    tools = site["tools"]
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON_INSTALL_DIR": str(site["app"].parent / "python"),
    }
    return subprocess.run(
        ["sh", "-c", SCRIPT.read_text(), "sh", str(top), python, "requirements.txt", "gunicorn",
         "true", "", str(tools / "uv"), str(tools / "manage"), top.name, site["user"],
         str(site["home"]), FAKE_INSTALL, *map(str, earlier)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_same_inputs_reuse_the_earlier_venv(site):
    first = _release(site, "r1")
    assert _build(site, first, "3.12").returncode == 0
    _seal(first)

    second = _release(site, "r2")
    result = _build(site, second, "3.12", first)

    assert result.returncode == 0, result.stderr
    assert f"reused the venv of {first}" in result.stdout
    assert (second / ".djops-venv-key").read_text() == (first / ".djops-venv-key").read_text()


def test_another_python_gets_a_venv_of_its_own(site):
    first = _release(site, "r1")
    assert _build(site, first, "3.14").returncode == 0
    _seal(first)

    second = _release(site, "r2")
    result = _build(site, second, "3.12", first)

    assert result.returncode == 0, result.stderr
    assert "reused" not in result.stdout
    assert (second / ".venv" / "made-with").read_text() == f"{site['pythons']['3.12']}\n"
    assert (second / ".djops-venv-key").read_text() != (first / ".djops-venv-key").read_text()


def test_other_requirements_get_a_venv_of_their_own(site):
    first = _release(site, "r1")
    assert _build(site, first, "3.12").returncode == 0
    _seal(first)

    second = _release(site, "r2", requirements="Django>=5.2,<5.3\nwhitenoise\n")
    result = _build(site, second, "3.12", first)

    assert result.returncode == 0, result.stderr
    assert "reused" not in result.stdout


def test_requirements_the_build_user_cannot_read_stop_the_build(site):
    first = _release(site, "r1")
    assert _build(site, first, "3.12").returncode == 0
    _seal(first)

    # A before_build hook (which runs as the build user) may leave a link to what only root reads.
    secret = site["app"] / "secret"
    secret.write_text("root's\n")
    secret.chmod(stat.S_IRUSR)
    second = _release(site, "r2")
    (second / "requirements.txt").unlink()
    (second / "requirements.txt").symlink_to(secret)
    result = _build(site, second, "3.12", first)

    assert result.returncode != 0
    assert "cannot read" in result.stderr
    assert not (second / ".venv").exists()
