# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter that masks secret values in a message (role app: the cause of a failed deploy).

A failure message may come from the app itself: Django's ImproperlyConfigured, a traceback of
``check --deploy``, ``migrate`` or ``collectstatic`` can print a setting, and with it the secret
key or a database password. ``redact_secrets`` replaces every secret value it is given, and those
it reads from the app's environment file, by ``********`` before the message is shown or written
to the audit log.

The documentation is in redact_secrets.yml, next to this one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "********"
# Shorter values are left alone: masking every "a" or "1" would garble the message and hide
# nothing worth hiding.
MIN_SECRET_LENGTH = 4
# Names of variables whose values are secrets even when djops did not set them.
SECRET_NAME_RE = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL", re.I)
# The password in scheme://user:password@host, whatever the URL is.
_URL_PASSWORD_RE = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)([^\s@'\"]+)(@)")
_ENV_LINE_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
_ENV_ESCAPE_RE = re.compile(r"\\(.)")


def env_file_values(content: str, names: Iterable[str] = ()) -> list[str]:
    """The values in an env file of the app role, of ``names`` and of secret-looking names."""
    wanted = set(names)
    values = []
    for line in content.splitlines():
        match = _ENV_LINE_RE.fullmatch(line.strip())
        if match and (match[1] in wanted or SECRET_NAME_RE.search(match[1])):
            values.append(_ENV_ESCAPE_RE.sub(r"\1", match[2]))
    return values


def _variants(secret: str) -> set[str]:
    """The secret, and for a URL its password, as written and decoded."""
    out = {secret}
    try:
        password = urlsplit(secret).password
    except ValueError:
        password = None
    if password:
        out |= {password, unquote(password)}
    return out


def redact_secrets(
    text: Any,
    secrets: Iterable[Any] = (),
    env_file: str = "",
    names: Iterable[str] = (),
    separator: str = "",
) -> str:
    """``text`` with every secret masked.

    The secrets are ``secrets``, the values in ``env_file`` (its content) of ``names`` and of
    names that look secret, each split on ``separator`` when one is given (a list of fallback
    keys), and for URLs their passwords. Passwords in any scheme://user:password@host are
    masked too.
    """
    message = "" if text is None else str(text)
    values = [str(s) for s in secrets if s is not None and not isinstance(s, bool)]
    if env_file:
        values += env_file_values(env_file, names)
    found: set[str] = set()
    for value in values:
        parts = [value, *value.split(separator)] if separator else [value]
        for part in parts:
            found |= _variants(part.strip())
    for secret in sorted(found, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            message = message.replace(secret, MASK)
    return _URL_PASSWORD_RE.sub(rf"\g<1>{MASK}\g<3>", message)


class FilterModule:
    """Masking of secrets in messages."""

    def filters(self) -> dict[str, Any]:
        return {"redact_secrets": redact_secrets}
