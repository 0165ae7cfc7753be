#!/bin/sh
# Makes variants of the example app's archive for verify.yml: a good change (v2), v2 with a hook
# task file (hooks), broken releases (process: its heartbeat process dies) (bench/ scripts use them too) and one whose
# third-party code tries to read secrets at build time (probe).
# Usage: make_variants.sh BASE.tar.gz OUTDIR
set -eu
base=$1
out=$2
rm -rf "$out"
mkdir -p "$out/base"
tar xzf "$base" -C "$out/base"

variant() {
    rm -rf "${out:?}/${1:?}"
    cp -a "$out/base" "$out/$1"
}
pack() {
    tar czf "$out/$1.tar.gz" -C "$out/$1" .
}

# A good change: a new stylesheet (new hashed static name) and page text.
variant v2
printf '\n/* release v2 */\n' >> "$out/v2/board/static/board/site.css"
pack v2

# v2 with a task file for a before_switch hook: it runs as root on the server, before the switch.
rm -rf "$out/hooks"
cp -a "$out/v2" "$out/hooks"
mkdir -p "$out/hooks/deploy/hooks"
cat > "$out/hooks/deploy/hooks/before_switch.yml" <<'YAML'
---
- name: Read which release serves before the switch
  ansible.builtin.stat:
    path: /srv/{{ app_name }}/current
  register: hook_current

- name: Leave a marker only root can read
  ansible.builtin.copy:
    dest: /root/djops-hook-{{ djops_stage }}
    content: >-
      {{ djops_stage }} {{ djops_release }} {{ djops_release_dir }} {{ djops_project_dir }}
      {{ hook_current.stat.lnk_target }}
    mode: "0600"
YAML
pack hooks

# The heartbeat process dies as it starts (the web app is fine).
variant process
cat >> "$out/process/board/management/commands/heartbeat.py" <<'PY'


def _refuse(self, *args, **options):
    raise RuntimeError("this process fails on purpose")


Command.handle = _refuse
PY
pack process

# A migration that fails.
variant migration
cat > "$out/migration/board/migrations/0003_fails.py" <<'PY'
from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("this migration fails on purpose")


class Migration(migrations.Migration):
    dependencies = [("board", "0002_note_recent_index")]
    operations = [migrations.RunPython(fail)]
PY
pack migration

# The WSGI module cannot be imported.
variant import
printf '\nimport djops_no_such_module  # noqa: E402,F401\n' >> "$out/import/notes/wsgi.py"
pack import

# Imports and starts, but answers every request with 503, the health check included: a visitor
# it reached before the health check would see an error (the bench counts those).
variant health
cat >> "$out/health/notes/urls.py" <<'PY'


def _broken(request, anything=""):
    from django.http import HttpResponse

    return HttpResponse("broken on purpose", status=503)


urlpatterns = [path("", _broken), path("<path:anything>", _broken)]
PY
pack health

# Settings that fix STATIC_ROOT beside the directory nginx serves, as some project templates do,
# with a static/ directory of the project's own in the way (source files), so djops cannot move
# the collected files there: every page would link stylesheets that answer 404.
variant static
printf '\nSTATIC_ROOT = BASE_DIR / "staticfiles"\n' >> "$out/static/notes/settings.py"
mkdir "$out/static/static"
printf 'User-agent: *\n' > "$out/static/static/robots.txt"
pack static

# A cache whose every write fails (in a directory of the code, which the app may not write):
# the site would run with no cache at all where its settings have one.
variant cache
cat >> "$out/cache/notes/settings.py" <<'PY'

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(BASE_DIR / "board"),
    }
}
PY
pack cache

# A middleware of the project that replaces REMOTE_ADDR (as an old "take X-Forwarded-For"
# snippet does, here with nothing): rate limits and audit logs would see no visitor's address.
variant address
cat >> "$out/address/notes/settings.py" <<'PY'


def _blank_address(get_response):
    def middleware(request):
        request.META["REMOTE_ADDR"] = ""
        return get_response(request)

    return middleware


MIDDLEWARE = ["notes.settings._blank_address", *MIDDLEWARE]
PY
pack address

# Settings that refuse to load and print the secret key in their error, as a careless
# ImproperlyConfigured would: the deploy's message and the audit log must not show it.
variant secret
cat >> "$out/secret/notes/settings.py" <<'PY'

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

raise ImproperlyConfigured(f"settings refused on purpose: SECRET_KEY={SECRET_KEY}")
PY
pack secret

# Third-party code that tries, at build time, to read /etc/shadow and another app's secret: a
# local package whose setup.py tries while uv builds it, and an app whose ready() tries in every
# manage.py command (collectstatic and check --deploy at build time). Either stops the build,
# loudly, unless every read is refused with "permission denied"; what they saw is left where
# verify.yml reads it: the package's module, and probe-<command>.txt in the release.
variant probe
mkdir -p "$out/probe/vendor/djops_probe"
cat > "$out/probe/vendor/djops_probe/probe_reads.py" <<'PY'
import os
import pwd

# The other app's secret: verify.yml makes it, as djops.django.app makes every app's.
PATHS = ("/etc/shadow", "/etc/djops/secrets/other/secret_key")


def try_reads():
    """What reading each of PATHS gave, and the user that tried."""
    results = {}
    for path in PATHS:
        try:
            with open(path, "rb") as secret:
                secret.read(1)
        except PermissionError:
            results[path] = "permission denied"
        except OSError as error:
            results[path] = type(error).__name__
        else:
            results[path] = "READ"
    return pwd.getpwuid(os.getuid()).pw_name, results


def refused(results):
    return all(outcome == "permission denied" for outcome in results.values())
PY
cat > "$out/probe/vendor/djops_probe/setup.py" <<'PY'
import sys

from probe_reads import refused, try_reads
from setuptools import setup

user, results = try_reads()
if not refused(results):
    sys.exit(f"djops-probe: the build backend ran as {user} and was not refused: {results}")
with open("djops_probe.py", "w") as module:
    module.write(f"BUILT_BY = {user!r}\nREADS = {results!r}\n")
setup(name="djops-probe", version="1.0", py_modules=["djops_probe", "probe_reads"])
PY
printf './vendor/djops_probe\n' >> "$out/probe/requirements.txt"
mkdir -p "$out/probe/probe_app"
: > "$out/probe/probe_app/__init__.py"
cat > "$out/probe/probe_app/apps.py" <<'PY'
import sys
from pathlib import Path

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from probe_reads import refused, try_reads


class ProbeConfig(AppConfig):
    name = "probe_app"

    def ready(self):
        command = sys.argv[1] if Path(sys.argv[0]).name == "manage.py" and len(sys.argv) > 1 else "serve"
        user, results = try_reads()
        if not refused(results):
            raise ImproperlyConfigured(f"djops-probe: {command} ran as {user} and was not refused: {results}")
        release = Path(__file__).resolve().parent.parent
        try:
            release.joinpath(f"probe-{command}.txt").write_text(f"{user} {sorted(results.values())}\n")
            # The task file of a tasks: hook runs as root: rewritten here, it must not be the one run.
            release.joinpath("deploy/hooks/before_switch.yml").write_text(
                "- name: Run as root what the build wrote\n"
                "  ansible.builtin.copy: {dest: /root/djops-probe-tampered, content: tampered, mode: '0600'}\n"
            )
        except OSError:
            pass  # the release is root's once built
PY
mkdir -p "$out/probe/deploy/hooks"
cat > "$out/probe/deploy/hooks/before_switch.yml" <<'YAML'
---
- name: Leave the marker of the hook in the archive
  ansible.builtin.copy:
    dest: /root/djops-probe-hook
    content: "{{ djops_release }}"
    mode: "0600"
YAML
printf '\nINSTALLED_APPS = [*INSTALLED_APPS, "probe_app"]\n' >> "$out/probe/notes/settings.py"
pack probe
