"""roles/app/files/site_probe.py, run as a deploy runs it: manage.py shell -c in a real Django
project (made here), then judged by the filters of plugins/filter/deploy_checks.py."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTION = Path(__file__).resolve().parents[2]
PROBE = COLLECTION / "roles" / "app" / "files" / "site_probe.py"


def _filters():
    path = COLLECTION / "plugins" / "filter" / "deploy_checks.py"
    spec = importlib.util.spec_from_file_location("deploy_checks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


FILTERS = _filters()

SETTINGS = """
SECRET_KEY = "x" * 50
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = {static_url!r}
STATIC_ROOT = {static_root!r}
CACHES = {caches!r}
"""

BACKENDS = '''
from django.core.cache.backends.base import BaseCache


class Swallowing(BaseCache):
    """As django-redis with IGNORE_EXCEPTIONS when Redis refuses every write."""

    def __init__(self, location, params):
        super().__init__(params)

    def set(self, *args, **kwargs):
        pass

    def get(self, key, default=None, version=None):
        return default

    def delete(self, *args, **kwargs):
        return False


class Refusing(Swallowing):
    def set(self, *args, **kwargs):
        raise PermissionError("NOPERM this user has no permissions to access one of the keys")
'''

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def probe(
    tmp_path: Path,
    *,
    static_root: Path,
    served: Path,
    caches=None,
    static_url="/static/",
    checks="static,cache",
) -> dict:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "probed_settings.py").write_text(
        SETTINGS.format(
            static_url=static_url,
            static_root=str(static_root),
            caches=caches if caches is not None else LOCMEM,
        )
    )
    (project / "probed_backends.py").write_text(BACKENDS)
    (project / "manage.py").write_text(
        "import sys\nfrom django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "probed_settings",
        "PYTHONPATH": str(project),
        "DJOPS_PROBE": checks,
        "DJOPS_STATIC_DIR": str(served),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE.read_text()],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    line = [x for x in result.stdout.splitlines() if x.startswith("djops-probe: ")][-1]
    return {"stdout": result.stdout, **json.loads(line.removeprefix("djops-probe: "))}


def collected(root: Path, manifest: bool) -> None:
    (root / "board").mkdir(parents=True)
    (root / "board" / "site.css").write_text("body {}\n")
    (root / "board" / "site.0123456789ab.css").write_text("body {}\n")
    (root / "board" / "site.0123456789ab.css.gz").write_bytes(b"gz")
    if manifest:
        (root / "staticfiles.json").write_text(
            json.dumps(
                {"version": "1.1", "paths": {"board/site.css": "board/site.0123456789ab.css"}}
            )
        )


def test_a_manifest_names_the_hashed_file_where_nginx_serves_it(tmp_path):
    static = tmp_path / "release" / "static"
    collected(static, manifest=True)
    found = probe(tmp_path, static_root=static, served=static)
    assert found["static"] == {
        "root": str(static),
        "url": "/static/",
        "file": "board/site.0123456789ab.css",
        "manifest": True,
        "served": True,
    }
    assert found["cache"] == [
        {"alias": "default", "backend": LOCMEM["default"]["BACKEND"], "ok": True, "error": ""}
    ]
    assert FILTERS["site_probe_problems"](found["stdout"], str(static)) == []
    assert (
        FILTERS["site_probe_static_path"](found["stdout"]) == "/static/board/site.0123456789ab.css"
    )


def test_static_root_fixed_elsewhere_by_the_settings_is_named(tmp_path):
    elsewhere = tmp_path / "release" / "staticfiles"
    served = tmp_path / "release" / "static"
    collected(elsewhere, manifest=True)
    found = probe(tmp_path, static_root=elsewhere, served=served, static_url="static/")
    assert found["static"]["served"] is False
    assert FILTERS["site_probe_problems"](found["stdout"], str(served)) == [
        f"static files: /static/board/site.0123456789ab.css answers 404; the settings put "
        f"STATIC_ROOT at {elsewhere}, nginx serves {served}: give STATIC_ROOT the value of the "
        "environment variable STATIC_ROOT, which djops sets, or set checks: {static: false} "
        "in the config when that is intended"
    ]
    assert FILTERS["site_probe_static_path"](found["stdout"]) == ""


def test_without_a_manifest_any_collected_file_counts(tmp_path):
    static = tmp_path / "static"
    collected(static, manifest=False)
    found = probe(tmp_path, static_root=static, served=static, static_url="https://cdn.test/s/")
    assert found["static"]["file"] == "board/site.0123456789ab.css"
    assert found["static"]["manifest"] is False
    # Another host serves them: nothing to ask nginx for.
    assert FILTERS["site_probe_static_path"](found["stdout"]) == ""


def test_nothing_collected_is_nothing_to_check(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    found = probe(tmp_path, static_root=static, served=static, checks="static")
    assert found == {
        "stdout": found["stdout"],
        "static": {
            "root": str(static),
            "url": "/static/",
            "file": "",
            "manifest": False,
            "served": False,
        },
    }
    assert FILTERS["site_probe_problems"](found["stdout"], str(static)) == []


@pytest.mark.parametrize(
    ("backend", "cause"),
    [
        (
            "probed_backends.Swallowing",
            "(an error the backend ignored, as django-redis does with "
            "IGNORE_EXCEPTIONS, such as Redis refusing the write)",
        ),
        (
            "probed_backends.Refusing",
            ": PermissionError: NOPERM this user has no permissions to access one of the keys",
        ),
    ],
)
def test_a_cache_that_keeps_nothing_is_named(tmp_path, backend, cause):
    static = tmp_path / "static"
    static.mkdir()
    caches = {
        **LOCMEM,
        "sessions": {"BACKEND": backend},
        "off": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    found = probe(tmp_path, static_root=static, served=static, caches=caches, checks="cache")
    assert [c["alias"] for c in found["cache"]] == ["default", "sessions"]
    separator = "" if cause.startswith(":") else " "
    assert FILTERS["site_probe_problems"](found["stdout"], str(static)) == [
        f"cache 'sessions' ({backend}): a value written with the release's settings is not read "
        f"back{separator}{cause}; fix CACHES, or set checks: {{cache: false}} in the config when "
        "that is intended"
    ]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("200 text/css", ""),
        ("200 text/css; charset=utf-8", ""),
        ("404 text/html", "static files: /static/a.css answers 404 through nginx"),
        ("000 ", "static files: /static/a.css answers 000 through nginx"),
        (
            "200 text/html; charset=utf-8",
            "static files: /static/a.css answers 200 through nginx as "
            "text/html, not as text/css: a page was served in its place",
        ),
    ],
)
def test_nginx_answer_for_the_static_file(answer, problem):
    assert FILTERS["static_answer_problem"](answer, "/static/a.css") == problem


def test_a_probe_without_its_line_is_an_error():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="printed no result line"):
        FILTERS["site_probe_problems"]("Traceback ...", "/srv/notes/static")


HINT = "run `djops provision sandbox` first"


@pytest.mark.parametrize(
    "answer",
    [
        '200 {"x-djops-address-seen": ["127.0.0.1"], "server": ["nginx"]}',
        '200 {"x-djops-address-seen": ["2001:db8::7"]}',
    ],
)
def test_an_address_the_app_saw_passes(answer):
    assert FILTERS["client_address_problem"](answer, HINT) == ""


@pytest.mark.parametrize("seen", ["", "0.0.0.0", "::", "unknown", "-"])  # noqa: S104
def test_no_address_or_a_placeholder_is_named(seen):
    answer = "200 " + json.dumps({"x-djops-address-seen": [seen]})
    assert FILTERS["client_address_problem"](answer, HINT) == (
        f"client address: the app sees REMOTE_ADDR {seen!r} for a request through nginx, not "
        "the visitor's address (rate limits, django-allauth and audit logs read it): code of the "
        "project (a middleware, a WSGI wrapper) replaces it; remove that, or set checks: "
        "{address: false} in the config when that is intended"
    )


@pytest.mark.parametrize("answer", ['200 {"server": ["nginx"]}', "200 ", "200"])
def test_an_app_server_that_does_not_answer_the_probe_asks_for_provisioning(answer):
    assert FILTERS["client_address_problem"](answer, HINT) == (
        "client address: the app server did not say which address the app saw (no "
        "X-Djops-Address-Seen): it does not load the app through djops_client_address; " + HINT
    )


def test_headers_that_are_not_json_are_an_error():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="not JSON"):
        FILTERS["client_address_problem"]("200 <html>", HINT)
