"""The module djops.django.secret_file: made once, root-only, whole, never shown; then run by
ansible-playbook against this machine, in check mode and for real."""

import stat
import threading

import pytest
from ansible_collections.djops.django.plugins.modules import secret_file as module


def test_a_secret_is_made_once_with_mode_0600_and_no_line_break(tmp_path):
    path = tmp_path / "postgres_password"
    assert module.make_secret(path, 32) is True
    secret = path.read_text()
    assert len(secret) >= 42  # 32 bytes in URL-safe base64
    assert "\n" not in secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert module.make_secret(path, 32) is False
    assert path.read_text() == secret
    assert sorted(p.name for p in tmp_path.iterdir()) == ["postgres_password"]


def test_an_existing_file_is_kept_whatever_it_holds(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("supplied by the user\n")
    assert module.make_secret(path, 64) is False
    assert path.read_text() == "supplied by the user\n"


def test_a_dangling_symlink_is_not_followed(tmp_path):
    path = tmp_path / "redis_password"
    path.symlink_to(tmp_path / "elsewhere")
    assert module.make_secret(path, 32) is False
    assert not (tmp_path / "elsewhere").exists()


def test_two_makers_at_once_leave_one_secret(tmp_path):
    path = tmp_path / "secret"
    start = threading.Barrier(8)
    results = []

    def make():
        start.wait()
        results.append(module.make_secret(path, 32))

    threads = [threading.Thread(target=make) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_secrets_differ(tmp_path):
    module.make_secret(tmp_path / "a", 32)
    module.make_secret(tmp_path / "b", 32)
    assert (tmp_path / "a").read_text() != (tmp_path / "b").read_text()


def test_check_mode_says_it_would_make_the_file_and_makes_nothing(run_task, tmp_path):
    path = tmp_path / "secret"
    result = run_task({"djops.django.secret_file": {"path": str(path)}}, check=True)
    assert result["changed"] is True
    assert not path.exists()


def test_the_module_makes_the_file_and_never_returns_it(run_task, tmp_path):
    path = tmp_path / "secret"
    result = run_task({"djops.django.secret_file": {"path": str(path), "nbytes": 64}})
    assert result["changed"] is True
    secret = path.read_text()
    assert len(secret) >= 85
    assert secret not in str(result)
    again = run_task({"djops.django.secret_file": {"path": str(path)}})
    assert again["changed"] is False
    assert path.read_text() == secret


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"nbytes": 8}, "nbytes is 8: a secret needs at least 16 random bytes"),
        ({"path": "/nonexistent-djops/secret"}, "/nonexistent-djops is not a directory"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(run_task, tmp_path, args, message):
    task = {"djops.django.secret_file": {"path": str(tmp_path / "s"), **args}}
    result = run_task({**task, "ignore_errors": True})
    assert result["failed"] is True
    assert message in result["msg"]
    assert not (tmp_path / "s").exists()
