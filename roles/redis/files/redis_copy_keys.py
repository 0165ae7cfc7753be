"""Copy an app's keys from one Redis to another, keeping their names, values and expiry times.

Used by djops.django.redis when an app moves from the shared Redis of earlier djops versions
(one redis-server.service, an ACL user per app limited to keys <app>:*) to its own instance.
Both servers are reached on their unix sockets as the role's admin user, whose password is read
from a root-only file (never from the arguments or the environment, which `ps` shows).

A key that already exists in the target is left as it is: once the app writes to its new
instance, that copy is the newer one. So the copy can run before the app is switched over and
again after, and picks up in the second run only what was written in between.

Usage (as root on the Redis host):
  redis_copy_keys.py --source SOCKET --target SOCKET --password-file FILE [--user NAME]
                     [--match PATTERN]
Prints one JSON line {"copied": N, "kept": N, "gone": N}; exit code 1 with one line on stderr
when a server cannot be reached or refuses a command.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass

_SCAN_COUNT = 500


class RedisError(Exception):
    """An error reply, or a connection that broke."""


def encode(*args: bytes | str | int) -> bytes:
    """A command in the Redis protocol (RESP): an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class Reader:
    """Parses RESP2 replies from a byte stream (a socket's makefile, or BytesIO in tests)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def _line(self) -> bytes:
        line = self.stream.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("the connection closed")
        return line[:-2]

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.stream.read(size + 2)
            if len(data) != size + 2:
                raise RedisError("the connection closed")
            return data[:-2]
        if kind == b"*":
            size = int(rest)
            if size < 0:
                return None
            return [self.read() for _index in range(size)]
        raise RedisError(f"unexpected reply {line[:40]!r}")


class Connection:
    """One connection to a Redis unix socket."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as error:
            raise RedisError(f"cannot connect to {path}: {error.strerror}") from None
        self.path = path
        self.reader = Reader(self.sock.makefile("rb"))

    def call(self, *args: bytes | str | int):
        """The reply to one command; an error reply comes back as a RedisError value."""
        self.sock.sendall(encode(*args))
        return self.reader.read()

    def check(self, *args: bytes | str | int):
        """The reply to one command that must succeed."""
        reply = self.call(*args)
        if isinstance(reply, RedisError):
            name = args[0] if isinstance(args[0], str) else args[0].decode()
            raise RedisError(f"{self.path}: {name}: {reply}")
        return reply


def databases(info: bytes) -> list[int]:
    """The databases that hold keys, from INFO keyspace ("db0:keys=3,expires=0,...")."""
    found = []
    for line in info.decode().splitlines():
        if line.startswith("db") and ":" in line:
            found.append(int(line[2 : line.index(":")]))
    return sorted(found)


@dataclass
class Counts:
    copied: int = 0
    kept: int = 0
    gone: int = 0


def scan(conn: Connection, pattern: str) -> Iterator[bytes]:
    cursor = b"0"
    while True:
        cursor, keys = conn.check("SCAN", cursor, "MATCH", pattern, "COUNT", _SCAN_COUNT)
        yield from keys
        if cursor == b"0":
            return


def copy_keys(source: Connection, target: Connection, pattern: str) -> Counts:
    """Copy the keys matching pattern, database by database; keep the ones the target has."""
    counts = Counts()
    for db in databases(source.check("INFO", "keyspace")):
        source.check("SELECT", db)
        target.check("SELECT", db)
        for key in scan(source, pattern):
            ttl = source.check("PTTL", key)
            payload = source.check("DUMP", key)
            if ttl == -2 or payload is None:
                # Expired or deleted since SCAN listed it.
                counts.gone += 1
                continue
            reply = target.call("RESTORE", key, max(ttl, 0), payload)
            if isinstance(reply, RedisError):
                if str(reply).startswith("BUSYKEY"):
                    counts.kept += 1
                    continue
                raise RedisError(f"{target.path}: RESTORE: {reply}")
            counts.copied += 1
    return counts


def login(conn: Connection, user: str, password: str) -> None:
    reply = conn.call("AUTH", user, password)
    if isinstance(reply, RedisError):
        # Never the password: only which user was refused where.
        raise RedisError(f"{conn.path}: AUTH as {user} refused ({str(reply).partition(' ')[0]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="unix socket of the Redis to copy from")
    parser.add_argument("--target", required=True, help="unix socket of the Redis to copy to")
    parser.add_argument("--password-file", required=True, help="root-only file, the admin password")
    parser.add_argument("--user", default="djops-admin", help="ACL user on both servers")
    parser.add_argument("--match", default="*", help="which keys (a SCAN MATCH pattern)")
    args = parser.parse_args(argv)
    try:
        with open(args.password_file, encoding="utf-8") as file:
            password = file.read().strip()
        source = Connection(args.source)
        target = Connection(args.target)
        login(source, args.user, password)
        login(target, args.user, password)
        counts = copy_keys(source, target, args.match)
    except (OSError, RedisError) as error:
        print(f"redis_copy_keys: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"copied": counts.copied, "kept": counts.kept, "gone": counts.gone}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
