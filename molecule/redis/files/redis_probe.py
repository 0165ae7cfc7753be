"""Talk to Redis as an app would, and print every reply as JSON (for the Molecule checks).

Reads one JSON object on stdin (passwords never in the arguments or the environment):
  {"sessions": [{"host": H, "port": P, "user": U, "password": W, "commands": [[...], ...]}, ...]}
    runs each session's commands in order on a connection of its own, logging in first when a
    user is given; prints {"replies": [[reply, ...], ...]}, an error reply as {"error": "..."}.
  {"pubsub": {"subscriber": SESSION, "publishers": [SESSION, ...], "channel": C}}
    subscribes to C as subscriber, then each publisher publishes its index ("0", "1", ...) on C;
    prints {"receivers": [N, ...], "received": [...]}: what PUBLISH answered, and the messages the
    subscriber got within two seconds.
"""

from __future__ import annotations

import json
import socket
import sys


def command(*args: object) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def read(stream):
    line = stream.readline()
    if not line:
        raise EOFError
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return {"error": rest.decode()}
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else stream.read(size + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [read(stream) for _ in range(size)]
    raise ValueError(line)


class Session:
    def __init__(self, spec: dict) -> None:
        self.sock = socket.create_connection((spec["host"], spec["port"]), timeout=5)
        self.stream = self.sock.makefile("rb")
        self.login = None
        if spec.get("user"):
            self.login = self.call("AUTH", spec["user"], spec["password"])

    def call(self, *args: object):
        self.sock.sendall(command(*args))
        return read(self.stream)


def sessions(specs: list[dict]) -> dict:
    replies = []
    for spec in specs:
        session = Session(spec)
        got = [] if session.login is None else [session.login]
        for args in spec["commands"]:
            got.append(session.call(*args))
        replies.append(got)
    return {"replies": replies}


def pubsub(spec: dict) -> dict:
    subscriber = Session(spec["subscriber"])
    subscriber.call("SUBSCRIBE", spec["channel"])
    receivers = [
        Session(publisher).call("PUBLISH", spec["channel"], str(index))
        for index, publisher in enumerate(spec["publishers"])
    ]
    received = []
    subscriber.sock.settimeout(2)
    try:
        while True:
            received.append(read(subscriber.stream)[2])
    except (TimeoutError, EOFError):
        pass
    return {"receivers": receivers, "received": received}


def main() -> None:
    request = json.load(sys.stdin)
    if "pubsub" in request:
        print(json.dumps(pubsub(request["pubsub"])))
    else:
        print(json.dumps(sessions(request["sessions"])))


if __name__ == "__main__":
    main()
