"""The archive a deploy sends."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from djops import source
from djops.cli import main
from djops.commands import _playbook
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


def names_in(code):
    with tarfile.open(code.archive) as tar:
        return sorted(tar.getnames())


@pytest.fixture
def plain(tmp_path):
    """A project directory outside any git work tree."""
    project = tmp_path / "plain"
    (project / "app").mkdir(parents=True)
    (project / "manage.py").write_text("")
    (project / "app" / "settings.py").write_text("")
    return project


def test_path_archive_outside_git_leaves_out_what_gitignore_files_ignore(plain):
    (plain / ".gitignore").write_text("*.log\n!keep.log\nbuild/\n/local_settings.py\n")
    for name in ["debug.log", "keep.log", "build/out.txt", "local_settings.py"]:
        (plain / name).parent.mkdir(exist_ok=True)
        (plain / name).write_text("")
    (plain / "app" / "local_settings.py").write_text("")  # /local_settings.py is the top one only
    (plain / "app" / ".gitignore").write_text("generated/\n!debug.log\n")
    (plain / "app" / "generated").mkdir()
    (plain / "app" / "generated" / "x.py").write_text("")
    (plain / "app" / "debug.log").write_text("")  # re-included by the deeper .gitignore
    (plain / "app" / "trace.log").write_text("")
    assert names_in(source.from_path(plain)) == [
        ".gitignore",
        "app/.gitignore",
        "app/debug.log",
        "app/local_settings.py",
        "app/settings.py",
        "keep.log",
        "manage.py",
    ]


def test_path_archive_in_a_git_work_tree_sends_what_git_sees(repo):
    root = repo.parent.parent
    (root / ".gitignore").write_text("*.sqlite3\n.env\nmedia/\n")
    (repo / ".env").write_text("SECRET_KEY=x\n")
    (repo / "db.sqlite3").write_bytes(b"SQLite format 3\0")
    (repo / "media").mkdir()
    (repo / "media" / "upload.png").write_bytes(b"")
    (repo / "new_module.py").write_text("")  # untracked, not ignored: sent
    (repo / ".git").mkdir()  # a nested repository's data is never sent
    (repo / ".git" / "config").write_text("")
    (repo / "venv" / "bin").mkdir(parents=True)
    (repo / "venv" / "bin" / "python").write_text("")
    assert names_in(source.from_path(repo)) == ["manage.py", "new_module.py"]


def test_path_archive_skips_files_deleted_but_still_tracked(repo):
    (repo / "gone.py").write_text("")
    git(repo, "add", "gone.py")
    (repo / "gone.py").unlink()
    assert names_in(source.from_path(repo)) == ["manage.py"]


@pytest.mark.parametrize(
    "name",
    [
        ".env",
        ".env.production",
        "deploy/server.pem",
        "server.key",
        "id_rsa",
        "keys/id_ed25519",
        "cert.p12",
        "cert.PFX",
        "db.sqlite3",
        "data.sqlite",
        ".netrc",
        ".pgpass",
        ".aws/credentials",
        ".ssh/config",
    ],
)
def test_path_archive_refuses_files_that_look_like_secrets(plain, name):
    (plain / name).parent.mkdir(parents=True, exist_ok=True)
    (plain / name).write_text("")
    with pytest.raises(UsageError) as error:
        source.from_path(plain)
    message = str(error.value)
    assert f"look like secrets: {name} (" in message
    assert "add them to .gitignore" in message
    assert "--include-file" in message


@pytest.mark.parametrize("name", [".env.example", "id_ed25519.pub", "keys.py", "environment.py"])
def test_path_archive_sends_files_that_only_resemble_secrets(plain, name):
    (plain / name).write_text("")
    assert name in names_in(source.from_path(plain))


def test_path_archive_names_every_secret_in_one_error(plain):
    for name in [".env", "db.sqlite3", "tls/site.key"]:
        (plain / name).parent.mkdir(exist_ok=True)
        (plain / name).write_text("")
    with pytest.raises(UsageError, match=r"secrets: \.env, db\.sqlite3, tls/site\.key \("):
        source.from_path(plain)


def test_path_archive_sends_a_secret_looking_file_named_with_include_file(plain):
    (plain / "certs").mkdir()
    (plain / "certs" / "ca.pem").write_text("public certificate\n")
    code = source.from_path(plain, include_files=["certs/ca.pem"])
    assert "certs/ca.pem" in names_in(code)


def test_include_file_must_name_a_file_that_would_be_sent(plain):
    (plain / ".gitignore").write_text("*.pem\n")
    (plain / "ca.pem").write_text("")
    with pytest.raises(UsageError, match=r"--include-file ca\.pem: not a file that would be sent"):
        source.from_path(plain, include_files=["ca.pem"])


def test_path_archive_refuses_symlinks_that_point_outside(plain, tmp_path):
    (tmp_path / "secret.txt").write_text("")
    (plain / "app" / "up").symlink_to("../../secret.txt")
    (plain / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(UsageError) as error:
        source.from_path(plain)
    message = str(error.value)
    assert "symlinks that point outside the project: app/up -> ../../secret.txt, " in message
    assert "passwd -> /etc/passwd (" in message


def test_path_archive_refuses_absolute_symlinks_even_into_the_project(plain):
    (plain / "settings.py").symlink_to(plain / "app" / "settings.py")
    with pytest.raises(UsageError, match=r"settings\.py -> /.*/app/settings\.py"):
        source.from_path(plain)


def test_path_archive_refuses_links_to_directories_outside(plain, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.py").write_text("")
    (plain / "lib").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(UsageError, match="lib -> "):
        source.from_path(plain)


def test_path_archive_refuses_outside_links_git_sees(repo, tmp_path):
    (repo / "home").symlink_to("../../..")
    with pytest.raises(UsageError, match=r"outside the project: home -> \.\./\.\./\.\. \("):
        source.from_path(repo)


def test_path_archive_keeps_relative_links_inside_as_links(plain):
    (plain / "static").mkdir()
    (plain / "static" / "site.css").write_text("")
    (plain / "app" / "static").symlink_to("../static", target_is_directory=True)
    code = source.from_path(plain)
    with tarfile.open(code.archive) as tar:
        link = tar.getmember("app/static")
        assert link.issym()
        assert link.linkname == "../static"
        assert "static/site.css" in tar.getnames()


def test_path_archive_of_nothing_but_ignored_files_says_so(plain):
    (plain / ".gitignore").write_text("*\n")
    with pytest.raises(UsageError, match="no files to send"):
        source.from_path(plain)


FIXTURE = Path(__file__).parent / "fixtures" / "config" / "djops.yml"


def deploy_path(monkeypatch, capsys, project, *args):
    """`djops deploy production --path ...` through the real entry point: exit code, stderr."""
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["djops", "deploy", "production", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


def test_deploy_path_refuses_a_secret_before_contacting_any_host(plain, monkeypatch, capsys):
    (plain / "deploy").mkdir()
    shutil.copy(FIXTURE, plain / "deploy" / "djops.yml")
    (plain / ".env").write_text("SECRET_KEY=x\n")
    monkeypatch.setattr(_playbook, "execute", pytest.fail)
    code, err = deploy_path(monkeypatch, capsys, plain, "--path")
    assert code == 2
    assert "look like secrets: .env (add them to .gitignore" in err
    assert "SECRET_KEY" not in err


def test_deploy_include_file_goes_with_path(plain, monkeypatch, capsys):
    (plain / "deploy").mkdir()
    shutil.copy(FIXTURE, plain / "deploy" / "djops.yml")
    code, err = deploy_path(monkeypatch, capsys, plain, "--include-file", ".env")
    assert code == 2
    assert err == "error: --include-file goes with --path (a commit is sent as it was committed)\n"
