#!/bin/sh
# Makes variants of the example app's archive for verify.yml: a good change (v2), v2 with a hook
# task file (hooks) and four broken releases (bench/ scripts use them too).
# Usage: make_variants.sh BASE.tar.gz OUTDIR
set -eu
base=$1
out=$2
rm -rf "$out"
mkdir -p "$out/base"
tar xzf "$base" -C "$out/base"

variant() {
    rm -rf "$out/$1"
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

# Settings that refuse to load and print the secret key in their error, as a careless
# ImproperlyConfigured would: the deploy's message and the audit log must not show it.
variant secret
cat >> "$out/secret/notes/settings.py" <<'PY'

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

raise ImproperlyConfigured(f"settings refused on purpose: SECRET_KEY={SECRET_KEY}")
PY
pack secret
