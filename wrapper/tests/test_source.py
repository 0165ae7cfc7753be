"""The archive a deploy sends."""

from __future__ import annotations

import subprocess
import tarfile

import pytest

from djops import source
from djops.errors import UsageError


def git(cwd, *args):
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    project = tmp_path / "site" / "app"
    project.mkdir(parents=True)
    (project / "manage.py").write_text("print('committed')\n")
    (tmp_path / "README").write_text("outside the project\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    git(tmp_path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "one")
    return project


def test_git_archive_holds_the_committed_project_only(repo):
    (repo / "manage.py").write_text("print('not committed')\n")
    code = source.from_git(repo)
    with tarfile.open(code.archive) as tar:
        assert sorted(tar.getnames()) == ["manage.py"]
        assert tar.extractfile("manage.py").read() == b"print('committed')\n"
    assert code.dirty
    assert len(code.ref) == 40


def test_path_archive_sends_the_directory_as_it_is(repo):
    (repo / "manage.py").write_text("print('not committed')\n")
    (repo / "__pycache__").mkdir()
    (repo / "__pycache__" / "x.pyc").write_bytes(b"\0")
    code = source.from_path(repo)
    with tarfile.open(code.archive) as tar:
        assert tar.getnames() == ["manage.py"]
        assert tar.extractfile("manage.py").read() == b"print('not committed')\n"


def test_not_a_git_repository_says_what_to_do(tmp_path):
    (tmp_path / "manage.py").write_text("")
    with pytest.raises(UsageError, match="--path"):
        source.from_git(tmp_path)
