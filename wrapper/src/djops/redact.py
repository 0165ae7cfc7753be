"""Mask secret values in the messages the CLI shows.

The roles already mask the secrets they know in the cause of a failed deploy (the app role's
filter djops.django.redact_secrets). This is the second net, for every failure line the CLI
prints: the CLI does not know the secrets made on the servers, so besides the values it was
given it masks what looks like one: the password in scheme://user:password@host, and the value
after a secret-looking name (SECRET_KEY=…, 'PASSWORD': '…', DATABASE_URL: …).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "********"
MIN_SECRET_LENGTH = 4
# Names whose values are secrets, whatever the app calls them: variables and settings are in
# capitals (a task name such as "Read the cache credentials: failed" is not), and libpq's
# "password=…" in lowercase.
SECRET_NAME = (
    r"[A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL)[A-Z0-9_]*"  # noqa: S105
    r"|password|passwd"
)
_SECRET_NAME_RE = re.compile(SECRET_NAME)
_URL_PASSWORD_RE = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)([^\s@'\"]+)(@)")
# The djops variables (app_env_names) that hold secrets.
_SECRET_FIELDS = ("secret_key", "secret_key_fallbacks", "database_url", "redis_url")


def _assignment_re(names: Iterable[str]) -> re.Pattern[str]:
    known = (re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    alternatives = "|".join([*known, SECRET_NAME])
    # NAME=value, NAME = 'value', 'NAME': 'value', "NAME": "value", NAME: value
    return re.compile(
        rf"""(?<![A-Za-z0-9_])((?:{alternatives})['"]?\s*[:=]\s*['"]?)([^\s'",;}}\]]+)"""
    )


class Redactor:
    """Masks known secret values and secret-looking assignments and URL passwords in text."""

    def __init__(self, secrets: Iterable[Any] = (), names: Iterable[str] = ()) -> None:
        self.secrets = sorted(
            {str(s) for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )
        self._assignment = _assignment_re(names)

    @classmethod
    def for_variables(cls, variables: Mapping[str, Any]) -> Redactor:
        """The redactor for a run given `variables` (the roles' variables, plan.project_vars)."""
        env_names = variables.get("app_env_names") or {}
        if not isinstance(env_names, Mapping):
            env_names = {}
        names = [str(env_names[f]) for f in _SECRET_FIELDS if f in env_names]
        secrets: list[Any] = [
            variables.get(key) for key in ("app_secret_key", "app_database_url", "app_redis_url")
        ]
        fallbacks = variables.get("app_secret_key_fallbacks")
        if isinstance(fallbacks, list | tuple):
            secrets.extend(fallbacks)
        env = variables.get("app_env") or {}
        if isinstance(env, Mapping):
            secrets.extend(v for k, v in env.items() if _SECRET_NAME_RE.fullmatch(str(k)))
        return cls(secrets, names)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _URL_PASSWORD_RE.sub(rf"\g<1>{MASK}\g<3>", text)
        return self._assignment.sub(rf"\g<1>{MASK}", text)


redact = Redactor()
