# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters that judge a deploy's checks of the site as a visitor sees it (role djops.django.app).

``site_probe_problems`` reads what the release's own settings gave (roles/app/files/site_probe.py)
before the switch; ``static_answer_problem`` judges nginx's answer for a collected static file
after it, ``client_address_problem`` the address the app saw for a request through nginx. Each
problem is one line naming the cause and the setting. The documentation of each filter is in
the YAML file named after it.
"""

from __future__ import annotations

import ipaddress
import json
import mimetypes
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

MARK = "djops-probe: "
_SWITCH_OFF = "set checks: {%s: false} in the config when that is intended"


def _probe(stdout: str) -> Mapping[str, Any]:
    for line in reversed(str(stdout).splitlines()):
        if line.startswith(MARK):
            try:
                found = json.loads(line[len(MARK) :])
            except ValueError as exc:
                raise AnsibleFilterError(
                    f"deploy checks: the probe's line is not JSON: {exc}"
                ) from None
            if isinstance(found, Mapping):
                return found
    raise AnsibleFilterError("deploy checks: the probe printed no result line")


def static_url_path(static_url: str, name: str) -> str:
    """The path a visitor requests for ``name``; "" when STATIC_URL is another host's."""
    if "://" in static_url or static_url.startswith("//"):
        return ""
    prefix = static_url if static_url.startswith("/") else "/" + static_url
    return prefix.rstrip("/") + "/" + name


def site_probe_problems(stdout: str, static_dir: str) -> list[str]:
    """One line per problem the probe found: the static files nginx would not find, a cache that
    does not keep what is written to it."""
    probe = _probe(stdout)
    problems = []
    static = probe.get("static")
    if isinstance(static, Mapping) and static.get("file") and not static.get("served"):
        path = static_url_path(str(static.get("url", "")), str(static["file"]))
        problems.append(
            f"static files: {path or static['file']} answers 404; the settings put STATIC_ROOT at "
            f"{static.get('root')}, nginx serves {static_dir}: give STATIC_ROOT the value of the "
            f"environment variable STATIC_ROOT, which djops sets, or {_SWITCH_OFF % 'static'}"
        )
    for cache in probe.get("cache") or []:
        if cache.get("ok"):
            continue
        cause = (
            f": {cache['error']}"
            if cache.get("error")
            else (
                " (an error the backend ignored, as django-redis does with IGNORE_EXCEPTIONS,"
                " such as Redis refusing the write)"
            )
        )
        problems.append(
            f"cache {cache.get('alias')!r} ({cache.get('backend')}): a value written with the "
            f"release's settings is not read back{cause}; fix CACHES, or {_SWITCH_OFF % 'cache'}"
        )
    return problems


def site_probe_static_path(stdout: str) -> str:
    """The path a visitor requests for the collected file the probe found in the directory nginx
    serves; "" when there is none, or STATIC_URL is another host's (a CDN)."""
    static = _probe(stdout).get("static")
    if not isinstance(static, Mapping) or not static.get("file") or not static.get("served"):
        return ""
    return static_url_path(str(static.get("url", "")), str(static["file"]))


def static_answer_problem(answer: str, path: str) -> str:
    """What is wrong with nginx's answer for the static file at ``path``: "" when nothing is.

    ``answer`` is curl's ``%{http_code} %{content_type}``. A file answered as a page (text/html,
    or with no type) is a page answered in its place (a catch-all view, an error page), unless
    its name says it is a page.
    """
    code, _sep, content_type = str(answer).strip().partition(" ")
    if code != "200":
        return f"static files: {path} answers {code or 'nothing'} through nginx"
    expected = mimetypes.guess_type(path)[0]
    got = content_type.split(";")[0].strip().lower()
    if expected != "text/html" and got in ("", "text/html"):
        return (
            f"static files: {path} answers 200 through nginx as {got or 'no type'}, "
            f"not as {expected or 'a file'}: a page was served in its place"
        )
    return ""


def client_address_problem(answer: str, provision_hint: str) -> str:
    """What is wrong with the address the app saw for a request through nginx: "" when nothing.

    ``answer`` is curl's ``%{http_code} %{header_json}`` for a request carrying
    X-Djops-Address-Probe; djops_client_address answers it with X-Djops-Address-Seen.
    """
    headers_json = str(answer).strip().partition(" ")[2]
    try:
        headers = json.loads(headers_json) if headers_json else {}
    except ValueError as exc:
        raise AnsibleFilterError(
            f"client_address_problem: curl's headers are not JSON: {headers_json[:200]!r}"
        ) from exc
    values = headers.get("x-djops-address-seen") if isinstance(headers, Mapping) else None
    if not values:
        return (
            "client address: the app server did not say which address the app saw (no "
            "X-Djops-Address-Seen): it does not load the app through djops_client_address; "
            + provision_hint
        )
    seen = str(values[0] if isinstance(values, list) else values).strip()
    try:
        valid = not ipaddress.ip_address(seen).is_unspecified
    except ValueError:
        valid = False
    if valid:
        return ""
    return (
        f"client address: the app sees REMOTE_ADDR {seen!r} for a request through nginx, not the "
        "visitor's address (rate limits, django-allauth and audit logs read it): code of the "
        "project (a middleware, a WSGI wrapper) replaces it; remove that, or "
        + (_SWITCH_OFF % "address")
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "site_probe_problems": site_probe_problems,
            "site_probe_static_path": site_probe_static_path,
            "static_answer_problem": static_answer_problem,
            "client_address_problem": client_address_problem,
        }
