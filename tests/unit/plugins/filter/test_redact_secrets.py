"""The collection's filter djops.django.redact_secrets: the app role masks with it the secrets in
the cause of a failed deploy (the message and the audit line). Imported by path: it belongs to
the collection, not to the CLI's package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

COLLECTION = Path(__file__).resolve().parents[4]
_spec = importlib.util.spec_from_file_location(
    "redact_secrets", COLLECTION / "plugins" / "filter" / "redact_secrets.py"
)
assert _spec and _spec.loader
plugin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plugin)
redact_secrets = plugin.FilterModule().filters()["redact_secrets"]

KEY = "Zq3-xV9_generated-on-the-server_kL0pA7sD2fG5hJ8"
FALLBACK = "old-key-4f7a9c1e"
DB_PASSWORD = "p@ss/w0rd+x"
# The env file as roles/app/templates/env.j2 writes it ($, " and \\ escaped).
ENV_FILE = f'''# Ansible managed
DJANGO_SETTINGS_MODULE="notes.settings"
SECRET_KEY="{KEY}"
SECRET_KEY_FALLBACKS="{FALLBACK},another-old-key"
ALLOWED_HOSTS="notes.example.com"
DATABASE_URL="postgres://notes:p%40ss%2Fw0rd%2Bx@127.0.0.1:5432/notes"
STRIPE_API_TOKEN="tok\\$en-123"
TZ="Europe/Paris"
'''
NAMES = ["SECRET_KEY", "SECRET_KEY_FALLBACKS", "DATABASE_URL", "REDIS_URL"]


def mask(text: str, secrets=()) -> str:
    return redact_secrets(text, list(secrets), env_file=ENV_FILE, names=NAMES, separator=",")


def test_the_secret_key_read_from_the_env_file_is_masked():
    cause = (
        "Collect static files: django.core.exceptions.ImproperlyConfigured: "
        f"settings refused on purpose: SECRET_KEY={KEY}"
    )
    assert mask(cause) == (
        "Collect static files: django.core.exceptions.ImproperlyConfigured: "
        "settings refused on purpose: SECRET_KEY=********"
    )


def test_fallback_keys_database_password_and_secret_looking_values_are_masked():
    cause = (
        f"keys {FALLBACK} and another-old-key; password {DB_PASSWORD} (p%40ss%2Fw0rd%2Bx); "
        "token tok$en-123; zone Europe/Paris"
    )
    assert mask(cause) == (
        "keys ******** and ********; password ******** (********); token ********; "
        "zone Europe/Paris"
    )


def test_secrets_given_as_variables_and_any_url_password_are_masked():
    cause = "vault-key-999 failed; redis://notes:r3d1s@cache:6379/0 refused"
    assert redact_secrets(cause, ["vault-key-999", "", None]) == (
        "******** failed; redis://notes:********@cache:6379/0 refused"
    )


def test_a_message_without_secrets_is_unchanged():
    cause = "Apply migrations: RuntimeError: this migration fails on purpose"
    assert mask(cause, ["abc"]) == cause
