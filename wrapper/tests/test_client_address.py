"""The client's address reaches the app under every app server djops runs.

roles/appserver/files/djops_client_address.py, loaded the way the role's units load it (the
gunicorn command line of release.service.j2 and uwsgi.ini.j2, rendered), under real gunicorn (sync
WSGI), gunicorn with uvicorn workers (ASGI) and uWSGI on a unix socket, with a small app that
echoes the address and the headers it was given. Requests are written as djops' nginx sends them:
the address nginx saw in X-Djops-Client-Address, plus forwarding headers a client forged.

The servers are installed from PyPI into a venv kept in pytest's cache (uWSGI is built from
source: it needs a C compiler and the Python headers).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import jinja2
import pytest

ROLE = Path(__file__).resolve().parents[2] / "roles/appserver"
RELEASE = "r1"
FORGED = "198.51.100.66"

ECHO_APP = """
import json


def _answer(path, address, headers):
    status = "404 Not Found" if path == "/missing" else "200 OK"
    return status, json.dumps({"address": address, "headers": headers}).encode()


def wsgi_app(environ, start_response):
    if environ["PATH_INFO"] == "/blank":
        # As a middleware that rewrites request.META (the environ) would.
        environ["REMOTE_ADDR"] = ""
    headers = {key: value for key, value in environ.items() if key.startswith("HTTP_")}
    status, body = _answer(environ["PATH_INFO"], environ.get("REMOTE_ADDR"), headers)
    start_response(status, [("Content-Type", "application/json")])
    return [body]


async def asgi_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    client = scope.get("client")
    headers = {}
    for name, value in scope["headers"]:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        headers[key] = ",".join(filter(None, [headers.get(key), value.decode("latin-1")]))
    status, body = _answer(scope["path"], client[0] if client else None, headers)
    await send({"type": "http.response.start", "status": int(status[:3]),
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
"""


def _python_headers() -> bool:
    include = sysconfig.get_paths().get("include")
    return bool(include) and (Path(include) / "Python.h").exists()


def _install(venv: Path, packages: list[str]) -> str | None:
    """pip install into venv; the reason it failed, or None."""
    result = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", *packages],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode == 0:
        return None
    return (result.stdout + result.stderr).strip().splitlines()[-1:] or ["pip failed"]


@pytest.fixture(scope="session")
def servers(request, tmp_path_factory) -> tuple[Path, str | None]:
    """A venv with gunicorn, uvicorn and (when it builds) uWSGI; the reason uWSGI is missing.

    Kept in pytest's cache when there is one (uWSGI takes some 20 s to build), else made afresh.
    """
    cache = getattr(request.config, "cache", None)
    parent = Path(cache.mkdir("djops-appservers")) if cache else tmp_path_factory.mktemp("servers")
    venv = parent / f"py{sys.version_info[0]}{sys.version_info[1]}"
    if not (venv / "bin/gunicorn").exists() or not (venv / "bin/uvicorn").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        failed = _install(venv, ["gunicorn", "uvicorn"])
        if failed:
            pytest.skip(f"cannot install gunicorn and uvicorn from PyPI: {failed}")
    uwsgi_missing = None
    if not (venv / "bin/uwsgi").exists():
        if not shutil.which("cc") or not _python_headers():
            uwsgi_missing = "uWSGI is built from source: needs cc and Python.h (python3-dev)"
        else:
            failed = _install(venv, ["uwsgi"])
            if failed:
                uwsgi_missing = f"uWSGI did not build: {failed}"
    return venv, uwsgi_missing


def _render(template: str, **variables) -> str:
    env = jinja2.Environment(  # noqa: S701 (a unit and an ini file, not HTML)
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True
    )
    env.filters["comment"] = lambda text, decoration="# ": f"{decoration}{text}"
    env.filters["regex_replace"] = lambda value, pattern, replacement="": re.sub(
        pattern, replacement, value
    )
    defaults = {
        "ansible_managed": "managed",
        "appserver_app": "echo",
        "appserver_kind": "gunicorn",
        "appserver_wsgi": "",
        "appserver_asgi": "",
        "appserver_project_dir": ".",
        "appserver_release_env_name": "APP_RELEASE",
        "appserver_worker_class": "sync",
        "appserver_threads": 2,
        "appserver_timeout": 30,
        "appserver_graceful_timeout": 5,
        "appserver_max_requests": 1000,
        "appserver_max_requests_jitter": 100,
        "appserver_preload": True,
        "appserver_uwsgi_max_worker_lifetime": 3600,
        "appserver_uwsgi_reload_on_rss": 512,
        "__appserver_check": False,
        "__appserver_unit": "djops-echo",
        "__appserver_workers": 1,
        "__appserver_extra_env_file": "/dev/null",
        "__appserver_env_file": "/dev/null",
        "__appserver_writable": [],
        "__appserver_sandbox": [],
        "__appserver_python_lib": str(ROLE / "files"),
    }
    defaults.update(variables)
    entry = defaults["appserver_asgi"] or defaults["appserver_wsgi"]
    defaults["__appserver_entry"] = entry
    defaults["__appserver_server_entry"] = "djops_client_address:" + (
        "asgi" if defaults["appserver_asgi"] else "wsgi"
    )
    return env.from_string((ROLE / "templates" / template).read_text()).render(**defaults)


def _exec_start(unit: str) -> list[str]:
    """The ExecStart= command of a rendered unit, as argv (systemd's %i for the release)."""
    lines = unit.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ExecStart="))
    command = []
    for line in lines[start:]:
        command.append(line.removeprefix("ExecStart=").rstrip("\\"))
        if not line.endswith("\\"):
            break
    return shlex.split(" ".join(command).replace("%i", RELEASE))


def _get(sock: Path, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict]:
    """One HTTP/1.1 request over the unix socket, as nginx writes it: status, the app's echo."""
    status, _, body = _request(sock, path, headers)
    return status, body


def _request(sock: Path, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict, dict]:
    """The same, with the answer's headers (names in lower case)."""
    lines = [f"GET {path} HTTP/1.1", "Host: notes.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(sock))
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded = b""
        while body:
            size_line, _, rest = body.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            decoded += rest[:size]
            body = rest[size + 2 :]
        body = decoded
    answer_headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    return status, answer_headers, json.loads(body)


def _wait_for(sock: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        if sock.exists():
            try:
                _get(sock, "/", [])
                return
            except OSError:
                pass
        time.sleep(0.1)
    pytest.fail(f"the app server did not answer on {sock}:\n{log.read_text()[-3000:]}")


@pytest.fixture(params=["gunicorn-wsgi", "gunicorn-asgi", "uwsgi"])
def served(request, servers, tmp_path):
    """The echo app served as the role's units serve a release: (socket, access log)."""
    venv, uwsgi_missing = servers
    kind = request.param
    if kind == "uwsgi" and uwsgi_missing:
        pytest.skip(uwsgi_missing)
    srv = tmp_path / "srv"
    release = srv / "releases" / RELEASE
    release.mkdir(parents=True)
    (release / ".venv").symlink_to(venv)
    (release / "echo_app.py").write_text(ECHO_APP)
    sock = tmp_path / "app.sock"
    log = tmp_path / "server.log"
    env = {**os.environ, "APP_RELEASE": RELEASE, "PATH": f"{release}/.venv/bin:/usr/bin:/bin"}
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJOPS_ENTRY_POINT"):
        env.pop(name, None)
    if kind == "gunicorn-asgi":
        entry = {"appserver_asgi": "echo_app:asgi_app"}
    else:
        entry = {"appserver_wsgi": "echo_app:wsgi_app"}
    if kind == "uwsgi":
        ini = tmp_path / "uwsgi.ini"
        ini.write_text(
            _render("uwsgi.ini.j2", appserver_kind="uwsgi", __appserver_dir=str(srv), **entry)
        )
        argv = [str(venv / "bin/uwsgi"), "--ini", str(ini), "--socket", str(sock)]
    else:
        unit = _render("release.service.j2", __appserver_dir=str(srv), **entry)
        argv = _exec_start(unit)
        control = argv.index("--control-socket")
        argv[control + 1] = str(tmp_path / "gunicorn.ctl")
        argv += ["--bind", f"unix:{sock}"]
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=release, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(sock, process, log)
        yield sock, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


FORGED_HEADERS = [
    ("X-Forwarded-For", FORGED),
    ("X-Real-IP", FORGED),
    ("Forwarded", f"for={FORGED};proto=https"),
    ("X-Client-IP", FORGED),
    ("True-Client-IP", FORGED),
]


@pytest.mark.parametrize("address", ["203.0.113.7", "2001:db8::7"])
def test_app_sees_the_address_nginx_saw(served, address):
    sock, log = served
    # nginx sets these three to $remote_addr; a client's Forwarded and X-Client-IP pass through.
    as_nginx_sends = [
        ("X-Djops-Client-Address", address),
        ("X-Forwarded-For", address),
        ("X-Real-IP", address),
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", f"for={FORGED}"),
        ("X-Client-IP", FORGED),
    ]
    status, seen = _get(sock, "/", as_nginx_sends)
    assert status == 200
    assert seen["address"] == address
    assert seen["headers"]["HTTP_X_FORWARDED_FOR"] == address
    assert seen["headers"]["HTTP_X_REAL_IP"] == address
    assert FORGED not in json.dumps(seen)
    assert "HTTP_X_DJOPS_CLIENT_ADDRESS" not in seen["headers"]

    # Even forged address headers next to the trusted one are never what the app sees.
    status, seen = _get(sock, "/", [("X-Djops-Client-Address", address), *FORGED_HEADERS])
    assert status == 200
    assert seen["address"] == address
    assert FORGED not in json.dumps(seen)

    # The server's own log names the client (uWSGI logs errors only, as djops configures it).
    marker = f"/missing?{address}"
    _get(sock, marker, as_nginx_sends)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if "/missing" in line]
        if lines:
            break
        time.sleep(0.1)
    assert lines, log.read_text()[-2000:]
    assert address in lines[-1] and FORGED not in lines[-1], lines[-1]


def test_without_the_trusted_header_no_forged_address_reaches_the_app(served):
    sock, _ = served
    status, seen = _get(sock, "/", FORGED_HEADERS)
    assert status == 200
    assert FORGED not in json.dumps(seen)


@pytest.mark.parametrize("value", ["not-an-address", "203.0.113.7, 198.51.100.66"])
def test_a_trusted_header_that_is_no_single_address_is_not_used(served, value):
    sock, _ = served
    status, seen = _get(sock, "/", [("X-Djops-Client-Address", value), ("X-Forwarded-For", FORGED)])
    assert status == 200
    assert seen["address"] not in (value, FORGED, "203.0.113.7")
    assert FORGED not in json.dumps(seen)


def test_a_deploys_probe_is_told_the_address_the_app_saw(served):
    sock, _ = served
    trusted = ("X-Djops-Client-Address", "203.0.113.7")
    status, answer, seen = _request(sock, "/", [trusted, ("X-Djops-Address-Probe", "1")])
    assert status == 200
    assert answer["x-djops-address-seen"] == "203.0.113.7"
    assert "HTTP_X_DJOPS_ADDRESS_PROBE" not in seen["headers"]
    # Only when asked.
    status, answer, _ = _request(sock, "/", [trusted])
    assert status == 200
    assert "x-djops-address-seen" not in answer


def test_a_probe_sees_what_the_projects_code_made_of_remote_addr(served, request):
    if "asgi" in request.node.callspec.id:
        pytest.skip("ASGI: Django builds request.META afresh from scope['client']")
    sock, _ = served
    probe = [("X-Djops-Client-Address", "203.0.113.7"), ("X-Djops-Address-Probe", "1")]
    status, answer, _ = _request(sock, "/blank", probe)
    assert status == 200
    assert answer["x-djops-address-seen"] == ""
