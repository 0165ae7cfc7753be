#!/usr/bin/env python3
"""Print what a PostgreSQL server asks of a client that wants to log in.

Usage: pg_auth_request.py HOST PORT USER DATABASE

Sends a protocol 3.0 StartupMessage and prints the server's first answer: "sasl SCRAM-SHA-256"
(the mechanisms offered), "md5", "cleartext", "ok" (no password asked at all) or
"error <message>". No password is ever sent.
"""

import socket
import struct
import sys

AUTH_NAMES = {0: "ok", 3: "cleartext", 5: "md5", 10: "sasl"}


def read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk
    return data


def main() -> None:
    host, port, user, database = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    params = b"".join(
        k.encode() + b"\0" + v.encode() + b"\0" for k, v in (("user", user), ("database", database))
    )
    params += b"\0"
    startup = struct.pack("!ii", 8 + len(params), 196608) + params
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(startup)
        kind = read_exactly(sock, 1)
        (length,) = struct.unpack("!i", read_exactly(sock, 4))
        body = read_exactly(sock, length - 4)
    if kind == b"R":
        (code,) = struct.unpack("!i", body[:4])
        mechanisms = [m.decode() for m in body[4:].split(b"\0") if m] if code == 10 else []
        print(AUTH_NAMES.get(code, str(code)), *mechanisms)
    elif kind == b"E":
        fields = {f[:1].decode(): f[1:].decode() for f in body.split(b"\0") if f}
        print("error", fields.get("M", ""))
    else:
        print("unexpected", kind.decode(errors="replace"))


if __name__ == "__main__":
    main()
