import os
import secrets
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test import Client, SimpleTestCase, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from .models import Note

BASE_DIR = Path(settings.BASE_DIR)

# ManifestStaticFilesStorage refuses to render a page before collectstatic
# has written its manifest; most tests are not about static files.
PLAIN_STATIC_STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Environment variables that change what the settings module produces; the
# subprocess tests start from a clean slate so the caller's shell cannot
# influence the result.
SETTINGS_ENV = {
    "ALLOWED_HOSTS",
    "APP_RELEASE",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_ASGI",
    "DJANGO_DATA_DIR",
    "DJANGO_SETTINGS_MODULE",
    "REDIS_URL",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
}


def run_python(*args, **env):
    clean_env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    # Some commands open the default SQLite database; keep it out of the tree.
    with tempfile.TemporaryDirectory() as data_dir:
        return subprocess.run(
            [sys.executable, *args],
            cwd=BASE_DIR,
            env={**clean_env, "DJANGO_DATA_DIR": data_dir, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )


def run_manage(*args, **env):
    return run_python("manage.py", *args, **env)


@override_settings(SECURE_SSL_REDIRECT=False, STORAGES=PLAIN_STATIC_STORAGES)
class BoardTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = get_user_model().objects.create_user("alice", password="correct horse")


class IndexTests(BoardTestCase):
    def test_lists_latest_twenty_notes_newest_first(self):
        now = timezone.now()
        for i in range(25):
            note = Note.objects.create(title=f"note {i:02}", author=self.user)
            # auto_now_add ignores explicit values on create.
            Note.objects.filter(pk=note.pk).update(created_at=now - timedelta(minutes=25 - i))

        with self.assertNumQueries(1):
            response = self.client.get(reverse("board:index"))

        self.assertEqual(response.status_code, 200)
        titles = [note.title for note in response.context["notes"]]
        self.assertEqual(titles, [f"note {i:02}" for i in range(24, 4, -1)])
        self.assertContains(response, "note 24")
        self.assertNotContains(response, "note 04")
        self.assertContains(response, "alice")

    def test_empty_board(self):
        response = self.client.get(reverse("board:index"))
        self.assertContains(response, "No notes yet.")

    def test_note_without_author(self):
        Note.objects.create(title="orphan")
        response = self.client.get(reverse("board:index"))
        self.assertContains(response, "anonymous")

    @override_settings(APP_RELEASE="20250101T000000-abc123")
    def test_shows_release(self):
        response = self.client.get(reverse("board:index"))
        self.assertContains(
            response, '<meta name="app-release" content="20250101T000000-abc123">', html=True
        )
        self.assertContains(response, '<span id="release">20250101T000000-abc123</span>', html=True)

    def test_links_static_assets(self):
        response = self.client.get(reverse("board:index"))
        self.assertContains(response, 'href="/static/board/site.css"')
        self.assertContains(response, 'src="/static/board/site.js"')

    def test_security_headers(self):
        response = self.client.get(reverse("board:index"))
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")


class AddressTests(BoardTestCase):
    def test_answers_the_callers_own_address(self):
        response = self.client.get(reverse("board:address"), REMOTE_ADDR="203.0.113.7")
        self.assertEqual(response.json(), {"address": "203.0.113.7"})
        self.assertIn("no-cache", response["Cache-Control"])


class NoteCreateTests(BoardTestCase):
    url = reverse("board:note_create")

    def test_requires_login(self):
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}")

        response = self.client.post(self.url, {"title": "sneaky"})
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}")
        self.assertFalse(Note.objects.exists())

    def test_shows_form(self):
        self.client.force_login(self.user)
        response = self.client.get(self.url)
        self.assertContains(response, 'name="title"')
        self.assertContains(response, 'name="csrfmiddlewaretoken"')

    def test_creates_note_for_logged_in_user(self):
        self.client.force_login(self.user)
        response = self.client.post(
            self.url, {"title": "Hello", "body": "First note."}, follow=True
        )
        self.assertRedirects(response, reverse("board:index"))
        self.assertContains(response, "Note saved.")
        self.assertContains(response, "First note.")

        note = Note.objects.get()
        self.assertEqual(note.title, "Hello")
        self.assertEqual(note.body, "First note.")
        self.assertEqual(note.author, self.user)

    def test_rejects_missing_title(self):
        self.client.force_login(self.user)
        response = self.client.post(self.url, {"title": "", "body": "no title"})
        self.assertEqual(response.status_code, 200)
        self.assertFormError(response.context["form"], "title", "This field is required.")
        self.assertFalse(Note.objects.exists())

    def test_rejects_post_without_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        with self.assertLogs("django.security.csrf", "WARNING"):
            response = client.post(self.url, {"title": "forged"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Note.objects.exists())


class AuthTests(BoardTestCase):
    def test_login_page(self):
        response = self.client.get(reverse("login"))
        self.assertContains(response, 'name="username"')
        self.assertTemplateUsed(response, "registration/login.html")

    def test_login_and_logout(self):
        response = self.client.post(
            reverse("login"), {"username": "alice", "password": "correct horse"}
        )
        self.assertRedirects(response, reverse("board:index"))
        response = self.client.get(reverse("board:index"))
        self.assertContains(response, "Log out")

        response = self.client.post(reverse("logout"))
        self.assertRedirects(response, reverse("board:index"))
        response = self.client.get(reverse("board:index"))
        self.assertContains(response, "Log in")

    def test_login_with_wrong_password(self):
        response = self.client.post(reverse("login"), {"username": "alice", "password": "nope"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.context["user"].is_authenticated)


class AdminTests(BoardTestCase):
    def test_note_changelist(self):
        admin = get_user_model().objects.create_superuser("root", password="admin password")
        Note.objects.create(title="from the admin test", author=self.user)
        self.client.force_login(admin)
        response = self.client.get(reverse("admin:board_note_changelist"))
        self.assertContains(response, "from the admin test")


class VersionTests(BoardTestCase):
    @override_settings(APP_RELEASE="r42")
    def test_reports_release_and_reads_database(self):
        Note.objects.create(title="one")
        with self.assertNumQueries(1):
            response = self.client.get(reverse("board:version"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"release": "r42", "notes": 1, "interface": "wsgi"})
        self.assertIn("no-cache", response["Cache-Control"])

    async def test_reports_the_asgi_interface(self):
        response = await self.async_client.get(reverse("board:version"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["interface"], "asgi")


class HealthzTests(BoardTestCase):
    url = reverse("board:healthz")

    def test_healthy(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(),
            {"status": "ok", "database": "ok", "cache": "ok", "release": settings.APP_RELEASE},
        )

    def test_never_cached(self):
        response = self.client.get(self.url)
        for directive in ("no-cache", "no-store", "must-revalidate", "max-age=0"):
            self.assertIn(directive, response["Cache-Control"])

    def test_database_failure(self):
        broken = OperationalError("connection refused")
        with (
            mock.patch.object(connections["default"], "cursor", side_effect=broken),
            self.assertLogs("board.views", "ERROR"),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get(self.url)
        self.assertEqual(response.status_code, 503)
        body = response.json()
        self.assertEqual(body["status"], "error")
        self.assertEqual(body["database"], "error")
        self.assertEqual(body["cache"], "ok")

    @override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    )
    def test_cache_that_loses_writes(self):
        with self.assertLogs("board.views", "ERROR"), self.assertLogs("django.request", "ERROR"):
            response = self.client.get(self.url)
        self.assertEqual(response.status_code, 503)
        body = response.json()
        self.assertEqual(body["status"], "error")
        self.assertEqual(body["database"], "ok")
        self.assertEqual(body["cache"], "error")

    @override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                # Port 1 on loopback: nothing listens, the connection is refused.
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
    )
    def test_unreachable_redis(self):
        with (
            self.assertLogs("board.views", "ERROR") as logs,
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get(self.url)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["cache"], "error")
        self.assertIn("cache", logs.output[0])

    def test_rejects_post(self):
        with self.assertLogs("django.request", "WARNING"):
            response = self.client.post(self.url)
        self.assertEqual(response.status_code, 405)


class HttpsRedirectTests(BoardTestCase):
    """Production redirects plain HTTP to HTTPS, except for the health probe."""

    @override_settings(SECURE_SSL_REDIRECT=True)
    def test_pages_redirect_to_https(self):
        response = self.client.get(reverse("board:index"))
        self.assertEqual(response.status_code, 301)
        self.assertTrue(response["Location"].startswith("https://"))

    @override_settings(SECURE_SSL_REDIRECT=True)
    def test_healthz_is_served_over_plain_http(self):
        response = self.client.get(reverse("board:healthz"))
        self.assertEqual(response.status_code, 200)

    @override_settings(
        SECURE_SSL_REDIRECT=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    )
    def test_proxy_header_marks_request_secure(self):
        response = self.client.get(reverse("board:index"), headers={"x-forwarded-proto": "https"})
        self.assertEqual(response.status_code, 200)


class ManifestStaticTests(TestCase):
    def test_pages_use_hashed_static_names(self):
        with (
            tempfile.TemporaryDirectory() as static_root,
            override_settings(STATIC_ROOT=static_root, SECURE_SSL_REDIRECT=False),
        ):
            call_command("collectstatic", interactive=False, verbosity=0)
            self.assertTrue((Path(static_root) / "staticfiles.json").is_file())
            response = self.client.get(reverse("board:index"))

        content = response.content.decode()
        self.assertRegex(content, r'href="/static/board/site\.[0-9a-f]{12}\.css"')
        self.assertRegex(content, r'src="/static/board/site\.[0-9a-f]{12}\.js"')


class ProductionSettingsTests(SimpleTestCase):
    """Run manage.py in a fresh process, as a server would, with DEBUG off."""

    def test_check_deploy_is_clean(self):
        result = run_manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="notes.example.com",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("System check identified no issues", result.stdout)
        self.assertNotIn("WARNING", result.stdout + result.stderr)

    def test_check_deploy_accepts_rotated_keys(self):
        result = run_manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            SECRET_KEY_FALLBACKS=f"{secrets.token_urlsafe(50)},{secrets.token_urlsafe(50)}",
            ALLOWED_HOSTS="notes.example.com",
        )
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_missing_secret_key_fails_at_start(self):
        result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="notes.example.com")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImproperlyConfigured", result.stderr)
        self.assertIn("SECRET_KEY environment variable is required", result.stderr)

    def test_build_commands_run_without_secrets(self):
        # Also guards against model changes that were never turned into a migration.
        result = run_manage("makemigrations", "--check", "--dry-run", DEBUG="false")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("No changes detected", result.stdout)

    def test_persistent_connections_only_under_wsgi(self):
        probe = (
            "import notes.{}; from django.db import connection; "
            "print(connection.settings_dict['CONN_MAX_AGE'], "
            "connection.settings_dict['CONN_HEALTH_CHECKS'])"
        )
        for interface, expected in (("wsgi", "60 True"), ("asgi", "0 True")):
            with self.subTest(interface=interface):
                # Loading the application does not connect, so the host need not exist.
                result = run_python(
                    "-c",
                    probe.format(interface),
                    DEBUG="true",
                    DATABASE_URL="postgres://notes@db.invalid/notes",
                )
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout.strip(), expected)

    def test_invalid_boolean_is_rejected(self):
        result = run_manage("check", DEBUG="flase")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DEBUG must be true or false", result.stderr)
