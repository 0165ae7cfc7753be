"""The visitor's address for a Django app behind djops' nginx, with nothing in its settings.

The app server (gunicorn, gunicorn with uvicorn workers, uWSGI) loads `wsgi` or `asgi` from this
module instead of the project's own entry point, which it names in DJOPS_ENTRY_POINT
(`module:callable`). Every request then reaches the project with:

- REMOTE_ADDR (WSGI) or scope["client"] (ASGI) set to the address nginx saw the client connect
  from, which nginx always writes into X-Djops-Client-Address (a client's own value of that
  header is replaced, never passed on). gunicorn leaves REMOTE_ADDR empty on a unix socket,
  uWSGI and uvicorn vary; this is the one place that decides.
- X-Forwarded-For and X-Real-IP holding that same address only, whatever the client sent.
- No Forwarded header nor any of the other headers in which a client could name an address of
  its choice (X-Client-IP, True-Client-IP, ...): nginx does not set them, so they can only come
  from the client.

Only nginx can connect to the app's socket (root and the web server's group), so only nginx can
say the address. A request without the header (the deploy's own check on the release's private
socket) gets no address (REMOTE_ADDR as the server set it, scope["client"] None: the peer of a unix
socket has none) and no forwarding header.

The environ and the scope are changed in place: the app server's access log, which reads them
after the app answered, shows the client's address too.

A deploy asks, through nginx, which address the app saw (djops.django.app's address check): a
request carrying X-Djops-Address-Probe gets X-Djops-Address-Seen in its answer, holding
REMOTE_ADDR as the project left it once it answered (its middleware may change request.META, which
is the environ), or the address of scope["client"] for ASGI. It is the requester's own address:
nothing another visitor could learn from it. The probe header itself never reaches the project.

The module runs under every release's Python (3.9 or later) and imports only the standard library.
"""

from __future__ import annotations

import importlib
import ipaddress
import os

ENTRY_POINT_VARIABLE = "DJOPS_ENTRY_POINT"

# The header nginx writes the client's address into (proxy_set_header ... $remote_addr).
TRUSTED_HEADER = "x-djops-client-address"

# Asked by a deploy's check; answered with the address the app saw (see above).
PROBE_HEADER = "x-djops-address-probe"
SEEN_HEADER = "x-djops-address-seen"

# Set to the trusted address: the headers nginx sets from $remote_addr, which apps read.
ADDRESS_HEADERS = ("x-forwarded-for", "x-real-ip")

# Removed: headers that name a client address which nginx never sets.
FORGEABLE_HEADERS = (
    "forwarded",
    "forwarded-for",
    "x-forwarded",
    "x-client-ip",
    "x-cluster-client-ip",
    "x-original-forwarded-for",
    "client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-appengine-user-ip",
)


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


_TRUSTED_KEY = _environ_key(TRUSTED_HEADER)
_PROBE_KEY = _environ_key(PROBE_HEADER)
_ADDRESS_KEYS = tuple(_environ_key(header) for header in ADDRESS_HEADERS)
_REMOVED_KEYS = (
    _TRUSTED_KEY,
    _PROBE_KEY,
    *(_environ_key(header) for header in FORGEABLE_HEADERS),
)
_TRUSTED_NAME = TRUSTED_HEADER.encode("latin-1")
_PROBE_NAME = PROBE_HEADER.encode("latin-1")
_SEEN_NAME = SEEN_HEADER.encode("latin-1")
_ADDRESS_NAMES = frozenset(header.encode("latin-1") for header in ADDRESS_HEADERS)
_REMOVED_NAMES = frozenset(header.encode("latin-1") for header in FORGEABLE_HEADERS) | {
    _TRUSTED_NAME,
    _PROBE_NAME,
}


def client_address(value: str | None) -> str | None:
    """The address in the trusted header's value, or None when it holds no single IP address."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def load(entry_point: str):
    """The object `module:attribute` (dotted attributes allowed) names."""
    module_name, _sep, attribute = entry_point.partition(":")
    if not module_name or not attribute:
        raise RuntimeError(f"{ENTRY_POINT_VARIABLE}={entry_point!r}: expected module:callable")
    target = importlib.import_module(module_name)
    for name in attribute.split("."):
        target = getattr(target, name)
    return target


def _project_app():
    entry_point = os.environ.get(ENTRY_POINT_VARIABLE, "")
    if not entry_point:
        raise RuntimeError(f"{ENTRY_POINT_VARIABLE} is not set: it names the project's module:callable")
    return load(entry_point)


# Loaded at import, as the app server would load the project's entry point itself: with
# --preload an import error stops the release before any worker starts.
_app = _project_app()


def rewrite_environ(environ: dict) -> None:
    """Put the trusted address in REMOTE_ADDR and the address headers; drop the others."""
    address = client_address(environ.get(_TRUSTED_KEY))
    for key in _REMOVED_KEYS:
        environ.pop(key, None)
    for key in _ADDRESS_KEYS:
        if address is None:
            environ.pop(key, None)
        else:
            environ[key] = address
    if address is not None:
        environ["REMOTE_ADDR"] = address


def rewrite_scope(scope: dict) -> None:
    """The same for an ASGI HTTP or WebSocket scope: scope["client"] and its headers."""
    address = None
    headers = []
    for name, value in scope.get("headers", ()):
        lowered = bytes(name).lower()
        if lowered == _TRUSTED_NAME:
            address = client_address(bytes(value).decode("latin-1"))
        if lowered in _REMOVED_NAMES or lowered in _ADDRESS_NAMES:
            continue
        headers.append((name, value))
    if address is not None:
        encoded = address.encode("latin-1")
        headers.extend((name, encoded) for name in sorted(_ADDRESS_NAMES))
        scope["client"] = (address, 0)
    else:
        # uvicorn's proxy headers middleware (gunicorn's --forwarded-allow-ips) may have put a
        # client's X-Forwarded-For here already; the peer of a unix socket has no address.
        scope["client"] = None
    scope["headers"] = headers


def seen_value(address) -> str:
    """An address as the answer header can carry it: printable ASCII, short."""
    text = "" if address is None else str(address)
    return "".join(char for char in text if " " < char < "\x7f")[:64]


def wsgi(environ, start_response):
    """The project's WSGI app, called with the client's address."""
    probed = _PROBE_KEY in environ
    rewrite_environ(environ)
    if not probed:
        return _app(environ, start_response)

    def answer(status, headers, *exc_info):
        seen = (SEEN_HEADER, seen_value(environ.get("REMOTE_ADDR")))
        return start_response(status, [*headers, seen], *exc_info)

    return _app(environ, answer)


async def asgi(scope, receive, send):
    """The project's ASGI app, called with the client's address."""
    if scope.get("type") not in ("http", "websocket"):
        await _app(scope, receive, send)
        return
    probed = any(bytes(name).lower() == _PROBE_NAME for name, _value in scope.get("headers", ()))
    rewrite_scope(scope)
    if not probed or scope["type"] != "http":
        await _app(scope, receive, send)
        return
    client = scope.get("client")
    seen = seen_value(client[0] if client else None).encode("latin-1")

    async def answer(message):
        if message.get("type") == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), (_SEEN_NAME, seen)]}
        await send(message)

    await _app(scope, receive, answer)
