#!/usr/bin/env python3
"""A visitor of the fixture project over HTTPS, as a browser would go through it.

Usage: visit.py BASE_URL CA_FILE EXPECTED_ADDRESS LABEL

Checks, in this order, and exits 1 naming the first one that fails:
- the home page links a hashed stylesheet (the staticfiles manifest), which answers 200 as
  text/css through nginx;
- /address shows EXPECTED_ADDRESS (the address nginx sees this machine at), also when the request
  forges X-Forwarded-For, X-Real-IP and Forwarded;
- a new user (LABEL@example.com) signs up and is signed in, signs out, and logs in again;
- five wrong passwords in a row are refused as wrong, the sixth by allauth's rate limit (which
  lives in the cache: without a working cache there is no limit), and so is the right password.
Prints one line per check passed.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

WRONG = "The email address and/or password you specified are not correct."
LIMITED = "Too many failed login attempts. Try again later."


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Visitor:
    def __init__(self, base: str, ca_file: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(
                context=ssl.create_default_context(cafile=ca_file)
            ),
            urllib.request.HTTPCookieProcessor(self.jar),
            NoRedirect,
        )

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base + path, data=body, headers=headers or {}
        )
        if data is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return (
                error.code,
                dict(error.headers),
                error.read().decode(errors="replace"),
            )

    def csrf_token(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def post_form(self, path: str, fields: dict):
        status, _, page = self.request(path)
        if status != 200:
            fail(f"GET {path} answered {status}")
        return self.request(path, {"csrfmiddlewaretoken": self.csrf_token(), **fields})


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def errors_of(page: str) -> list[str]:
    return [e for e in (WRONG, LIMITED) if e in page]


def main() -> None:
    base, ca_file, expected, label = sys.argv[1:5]
    visitor = Visitor(base, ca_file)

    status, _, home = visitor.request("/")
    stylesheet = re.search(r'href="(/static/portal/site\.[0-9a-f]{12}\.css)"', home)
    if status != 200 or not stylesheet:
        fail(f"home page: {status}, no hashed stylesheet in {home[:300]!r}")
    status, headers, _ = visitor.request(stylesheet.group(1))
    kind = headers.get("Content-Type", "")
    if status != 200 or not kind.startswith("text/css"):
        fail(f"{stylesheet.group(1)} answered {status} as {kind!r}")
    print(f"static: {stylesheet.group(1)} answers 200 as {kind}")

    forged = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Real-IP": "203.0.113.9",
        "Forwarded": "for=203.0.113.9",
    }
    for headers in ({}, forged):
        status, _, body = visitor.request("/address", headers=headers)
        seen = json.loads(body).get("remote_addr") if status == 200 else body[:200]
        if seen != expected:
            fail(
                f"/address with {sorted(headers) or 'no forged headers'}: {seen!r}, not {expected!r}"
            )
    print(f"address: the app sees {expected}, forged headers or not")

    email = f"{label}@example.com"
    password = secrets.token_urlsafe(16)
    signup = {"email": email, "password1": password, "password2": password}
    status, headers, page = visitor.post_form("/accounts/signup/", signup)
    if status != 302:
        fail(f"sign-up answered {status}: {errors_of(page) or page[:300]!r}")
    if f"Signed in as {email}" not in visitor.request("/")[2]:
        fail("signed up but not signed in")
    status, _, _ = visitor.post_form("/accounts/logout/", {})
    if status != 302 or "Not signed in" not in visitor.request("/")[2]:
        fail(f"sign-out answered {status}")
    status, _, page = visitor.post_form(
        "/accounts/login/", {"login": email, "password": password}
    )
    if status != 302 or f"Signed in as {email}" not in visitor.request("/")[2]:
        fail(f"log-in with the right password answered {status}: {errors_of(page)}")
    visitor.post_form("/accounts/logout/", {})
    print(f"account: {email} signed up, signed out and logged in")

    for attempt in range(1, 7):
        wrong = {"login": email, "password": f"wrong-{attempt}"}
        status, _, page = visitor.post_form("/accounts/login/", wrong)
        said = errors_of(page)
        want = [LIMITED] if attempt == 6 else [WRONG]
        if status != 200 or said != want:
            fail(f"wrong password {attempt}: {status} {said}, expected {want}")
    status, _, page = visitor.post_form(
        "/accounts/login/", {"login": email, "password": password}
    )
    if status != 200 or errors_of(page) != [LIMITED]:
        fail(
            f"the right password after six wrong ones: {status} {errors_of(page)}, not refused"
        )
    print("rate limit: the sixth wrong password and the right one after it are refused")


if __name__ == "__main__":
    main()
