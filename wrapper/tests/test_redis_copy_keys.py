"""roles/redis/files/redis_copy_keys.py: an app's keys move from the shared Redis to its own.

The copy logic runs against a small in-memory stand-in for the few commands it sends (INFO
keyspace, SELECT, SCAN, PTTL, DUMP, RESTORE); the protocol code against bytes. The role's
Molecule scenario (molecule/redis/verify_migration.yml) runs the script between real servers.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import io
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles/redis/files/redis_copy_keys.py"


def _load():
    spec = importlib.util.spec_from_file_location("redis_copy_keys", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


copy = _load()


class FakeRedis:
    """Databases of {key: (payload, pttl)}; answers like Redis, errors as RedisError values."""

    def __init__(self, dbs: dict[int, dict[bytes, tuple[bytes, int]]], path: str) -> None:
        self.dbs = dbs
        self.db = 0
        self.path = path
        self.vanish: set[bytes] = set()

    def call(self, name, *args):
        name = name.upper()
        keys = self.dbs.setdefault(self.db, {})
        if name == "INFO":
            lines = [f"db{n}:keys={len(k)},expires=0" for n, k in sorted(self.dbs.items()) if k]
            return ("# Keyspace\r\n" + "\r\n".join(lines)).encode()
        if name == "SELECT":
            self.db = int(args[0])
            return "OK"
        if name == "SCAN":
            pattern = args[2]
            found = [k for k in keys if fnmatch.fnmatchcase(k.decode(), pattern)]
            return [b"0", found]
        if name == "PTTL":
            if args[0] in self.vanish:
                return -2
            return keys[args[0]][1] if args[0] in keys else -2
        if name == "DUMP":
            return None if args[0] in self.vanish else keys[args[0]][0]
        if name == "RESTORE":
            key, ttl, payload = args
            if key in keys:
                return copy.RedisError("BUSYKEY Target key name already exists.")
            keys[key] = (payload, ttl if ttl else -1)
            return "OK"
        raise AssertionError(f"unexpected command {name}")

    check = copy.Connection.check


def test_copies_the_apps_keys_in_every_database_with_their_expiry():
    source = FakeRedis(
        {
            0: {b"notes:1:a": (b"A", 5000), b"notes:1:b": (b"B", -1), b"blog:1:a": (b"X", -1)},
            2: {b"notes:1:c": (b"C", -1)},
        },
        "/shared",
    )
    target = FakeRedis({}, "/own")
    counts = copy.copy_keys(source, target, "notes:*")
    assert (counts.copied, counts.kept, counts.gone) == (3, 0, 0)
    assert target.dbs[0] == {b"notes:1:a": (b"A", 5000), b"notes:1:b": (b"B", -1)}
    assert target.dbs[2] == {b"notes:1:c": (b"C", -1)}


def test_keys_the_target_has_are_newer_and_kept():
    source = FakeRedis({0: {b"notes:1:a": (b"old", -1), b"notes:1:late": (b"L", -1)}}, "/shared")
    target = FakeRedis({0: {b"notes:1:a": (b"newer", -1)}}, "/own")
    counts = copy.copy_keys(source, target, "notes:*")
    assert (counts.copied, counts.kept) == (1, 1)
    assert target.dbs[0] == {b"notes:1:a": (b"newer", -1), b"notes:1:late": (b"L", -1)}


def test_a_key_that_expires_during_the_copy_is_skipped():
    source = FakeRedis({0: {b"notes:1:a": (b"A", 10)}}, "/shared")
    source.vanish.add(b"notes:1:a")
    counts = copy.copy_keys(source, FakeRedis({}, "/own"), "notes:*")
    assert (counts.copied, counts.gone) == (0, 1)


def test_another_restore_error_stops_the_copy_naming_the_server():
    class Full(FakeRedis):
        def call(self, name, *args):
            if name == "RESTORE":
                return copy.RedisError("OOM command not allowed when used memory > 'maxmemory'.")
            return super().call(name, *args)

    source = FakeRedis({0: {b"notes:1:a": (b"A", -1)}}, "/shared")
    with pytest.raises(copy.RedisError, match=r"^/own: RESTORE: OOM"):
        copy.copy_keys(source, Full({}, "/own"), "notes:*")


def test_commands_are_encoded_as_resp_bulk_strings():
    assert copy.encode("SET", b"k\r\n", 5) == b"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$1\r\n5\r\n"


def test_replies_are_parsed():
    stream = io.BytesIO(
        b"+OK\r\n-BUSYKEY exists\r\n:42\r\n$-1\r\n"
        b"$4\r\na\r\nb\r\n*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    )
    reader = copy.Reader(stream)
    assert reader.read() == "OK"
    error = reader.read()
    assert isinstance(error, copy.RedisError) and str(error) == "BUSYKEY exists"
    assert reader.read() == 42
    assert reader.read() is None
    assert reader.read() == b"a\r\nb"
    assert reader.read() == [b"0", [b"k"]]


def test_a_closed_connection_is_an_error():
    with pytest.raises(copy.RedisError, match="closed"):
        copy.Reader(io.BytesIO(b"$5\r\nab")).read()


def test_databases_are_read_from_info_keyspace():
    info = b"# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\ndb11:keys=1,expires=0,avg_ttl=0\r\n"
    assert copy.databases(info) == [0, 11]


def test_main_reports_an_unreachable_server_in_one_line_without_the_password(tmp_path, capsys):
    password = tmp_path / "admin_password"
    password.write_text("s3cret-admin\n")
    code = copy.main(
        [
            "--source",
            str(tmp_path / "none.sock"),
            "--target",
            str(tmp_path / "x.sock"),
            "--password-file",
            str(password),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("redis_copy_keys: cannot connect to ")
    assert "s3cret" not in err
