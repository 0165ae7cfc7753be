#!/usr/bin/env python3
"""Stands in for the app on its unix socket until the app tier lands.

GET /headers answers with the request headers it received, as JSON; any other path answers
with a small HTML page. Usage: stub_app.py SOCKET_PATH
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn, UnixStreamServer


class Server(ThreadingMixIn, UnixStreamServer):
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stub-app"

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/headers"):
            body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
            content_type = "application/json"
        else:
            rows = "".join(f"<li>Note {n}: nothing to see here yet.</li>" for n in range(40))
            body = f"<!DOCTYPE html><html><head><title>notes</title></head><body><h1>notes app</h1><ul>{rows}</ul></body></html>".encode()
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Powered-By", "stub")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET
    do_POST = do_GET


def main() -> None:
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    server = Server(path, Handler)
    os.chmod(path, 0o666)
    server.serve_forever()


if __name__ == "__main__":
    main()
