"""roles/app/files/build.sh: a release directory made afresh, the code unpacked into it, and the
end of a build (collectstatic, the static files moved, the seal, check --deploy).

Run as the role runs it (sh -c "$(cat build.sh)" sh ACTION ...) as root, with `daemon` as the
build user (every Debian and Ubuntu system has it); djops-<app>-manage and djops-<app>-seal are
stand-ins that record their arguments.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles/app/files/build.sh"
USER = "daemon"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (it hands files to a user)")


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", SCRIPT.read_text(), "sh", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def archive(files: dict[str, str], *, gzip: bool) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.uid = 4242  # not kept: the files are the build user's
            tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("gzip", [True, False])
def test_unpack_makes_the_release_afresh_and_the_build_users_alone(tmp_path, gzip):
    release = tmp_path / "releases" / "r1"
    (release / "left-by-a-killed-run").mkdir(parents=True)
    files = {"manage.py": "print('hi')\n", "notes/settings.py": "DEBUG = False\n"}
    done = run("unpack", str(release), "z" if gzip else "", USER, stdin=archive(files, gzip=gzip))
    assert done.returncode == 0, done.stderr
    assert sorted(str(p.relative_to(release)) for p in release.rglob("*")) == [
        "manage.py",
        "notes",
        "notes/settings.py",
    ]
    daemon_uid = int(subprocess.check_output(["id", "-u", USER]))
    assert {p.stat().st_uid for p in [release, *release.rglob("*")]} == {daemon_uid}
    assert oct(release.stat().st_mode & 0o777) == "0o700"


def test_create_makes_an_empty_release_directory(tmp_path):
    release = tmp_path / "r1"
    release.mkdir()
    (release / "old").write_text("")
    assert run("create", str(release), USER).returncode == 0
    assert list(release.iterdir()) == []
    assert oct(release.stat().st_mode & 0o777) == "0o700"


def test_a_missing_build_user_says_to_provision_first(tmp_path):
    release = tmp_path / "r1"
    done = run("create", str(release), "djops-no-such-user")
    assert done.returncode == 1
    assert "the build user djops-no-such-user is missing: provision the host first" in done.stderr
    assert not release.exists()


@pytest.fixture
def tools(tmp_path):
    """Stand-ins for djops-<app>-manage and djops-<app>-seal that record their arguments."""
    log = tmp_path / "calls"
    for name in ("manage", "seal"):
        tool = tmp_path / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n')
        tool.chmod(0o755)

    def calls() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    return tmp_path / "manage", tmp_path / "seal", calls


def test_finish_collects_moves_the_static_files_seals_and_checks_a_new_build(tools):
    manage, seal, calls = tools
    done = run("finish", str(manage), "r1", str(seal), "true", "true", "true", "print('relocate')")
    assert done.returncode == 0, done.stderr
    assert calls() == [
        "manage --release r1 --build collectstatic --noinput -v0",
        "manage --release r1 --build shell -v0 -c print('relocate')",
        "seal r1",
        "manage --release r1 check --deploy --fail-level ERROR",
    ]


def test_finish_of_a_release_built_before_only_checks_it(tools):
    manage, seal, calls = tools
    assert run("finish", str(manage), "r1", str(seal), "false", "true", "true", "x").returncode == 0
    assert calls() == ["manage --release r1 check --deploy --fail-level ERROR"]
    done = run("finish", str(manage), "r1", str(seal), "true", "false", "false", "x")
    assert done.returncode == 0
    assert calls()[1:] == ["seal r1"]


def test_finish_without_the_sealer_says_to_provision_again(tools, tmp_path):
    manage, _, calls = tools
    done = run("finish", str(manage), "r1", str(tmp_path / "gone"), "true", "true", "true", "x")
    assert done.returncode == 2
    assert "gone is missing: provision the host again (djops provision)" in done.stderr
    assert calls() == []


def test_a_failing_collectstatic_stops_before_the_seal(tools, tmp_path):
    manage, seal, calls = tools
    manage.write_text(f'#!/bin/sh\necho "manage $*" >> {tmp_path / "calls"}\nexit 1\n')
    done = run("finish", str(manage), "r1", str(seal), "true", "true", "true", "x")
    assert done.returncode == 1
    assert calls() == ["manage --release r1 --build collectstatic --noinput -v0"]


def test_wrong_arguments_say_the_usage():
    for args in [(), ("build",), ("unpack", "/tmp/x"), ("finish", "a", "b")]:
        done = run(*args)
        assert done.returncode == 2
        assert "usage:" in done.stderr
