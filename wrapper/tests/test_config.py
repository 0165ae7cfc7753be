"""The config model: what deploy/djops.yml accepts, its defaults, and what it says when wrong."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from certificates import certificate_and_key
from pydantic import ValidationError

from djops.config import (
    LETSENCRYPT_PRODUCTION,
    Hook,
    Hooks,
    Host,
    Job,
    Process,
    ProjectConfig,
    check_config,
    config_as_data,
    find_config,
    load_config,
    parse_config,
    parse_host_string,
    project_root,
    resolve_python,
)
from djops.errors import ConfigError, UsageError

FIXTURE = Path(__file__).parent / "fixtures" / "config" / "djops.yml"


def config_text(
    top: str = "",
    environment: str = "",
    *,
    entry: str = "wsgi: notes.wsgi:application\n",
    hosts: str = "[deploy@web1.example.com]",
    domains: str = "[www.example.com]",
    acme_email: str = "acme_email: ops@example.com\n",
) -> str:
    """A small valid config; each argument replaces or adds one part of it."""
    text = "app: notes\nsettings: notes.settings\n" + entry + textwrap.dedent(top)
    text += f"environments:\n  production:\n    hosts: {hosts}\n    domains: {domains}\n"
    text += textwrap.indent(acme_email + textwrap.dedent(environment), "    ")
    return text


SSH_KEYS = Path(__file__).parent / "fixtures" / "ssh"
ED25519_KEY = (SSH_KEYS / "ed25519.pub").read_text().strip()
# A real host needs its login user among the admin users (the base role lets in no one else).
ADMINS = f"admin_users:\n  - name: deploy\n    keys: ['{ED25519_KEY}']\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc_info:
        parse_config(text, "deploy/djops.yml")
    assert exc_info.value.source == "deploy/djops.yml"
    return exc_info.value.problems


def only_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


# --- what a good file gives --------------------------------------------------------------------


def test_the_full_example_loads_with_every_field():
    config = load_config(FIXTURE)
    assert config.app == "notes"
    assert config.entry_point == ("wsgi", "notes.wsgi:application")
    assert config.python == "3.12"
    assert config.env_names.redis_url == "CACHE_URL"
    assert config.services == ("postgres", "redis")
    assert config.hooks.after_migrate == (Hook(command="python manage.py createcachetable"),)
    staging = config.environment("staging")
    assert staging.hosts == (
        Host(sandbox="web1"),
        Host(address="203.0.113.10"),
        Host(address="web2.example.com", user="deploy", port=2222),
        Host(address="db1.example.com", user="deploy", port=22, roles=("db",)),
    )
    assert staging.hosts[0].name == "web1" and staging.hosts[0].is_sandbox
    assert [h.name for h in staging.hosts_with("db")] == [
        "web1",
        "203.0.113.10",
        "web2.example.com",
        "db1.example.com",
    ]
    assert [h.name for h in staging.hosts_with("web")] == [
        "web1",
        "203.0.113.10",
        "web2.example.com",
    ]
    assert staging.acme_directory.startswith("https://acme-staging-v02.")
    assert config.env_for("staging") == {
        "DJANGO_LOG_LEVEL": "DEBUG",
        "DEFAULT_FROM_EMAIL": "notes@example.com",
    }
    assert config.env_for("production")["DJANGO_LOG_LEVEL"] == "INFO"
    assert config.environment("production").hosts[1].address == "2001:db8::10"


def test_the_example_in_the_docs_is_valid():
    reference = Path(__file__).parents[2] / "docs" / "config.md"
    if not reference.is_file():
        pytest.skip("docs/config.md is not next to these tests")
    example = reference.read_text().split("```yaml\n# deploy/djops.yml\n", 1)[1].split("```")[0]
    config = parse_config(example)
    assert sorted(config.environments) == ["production", "staging"]


def test_a_minimal_file_gets_every_default():
    config = parse_config(config_text())
    assert config.project_dir == "."
    assert config.asgi is None and config.python is None
    assert config.requirements == "requirements.txt" and not config.uses_pyproject
    assert config.system_packages == ()
    assert config.appserver == "gunicorn"
    assert config.services == ("postgres", "redis")
    assert config.healthcheck == "/healthz"
    assert config.releases_kept == 5
    assert config.env_names.model_dump() == {
        "secret_key": "SECRET_KEY",
        "secret_key_fallbacks": "SECRET_KEY_FALLBACKS",
        "database_url": "DATABASE_URL",
        "redis_url": "REDIS_URL",
        "allowed_hosts": "ALLOWED_HOSTS",
        "csrf_trusted_origins": "CSRF_TRUSTED_ORIGINS",
        "release": "APP_RELEASE",
        "media_root": "MEDIA_ROOT",
    }
    assert config.list_separator == ","
    assert config.env == {}
    production = config.environment("production")
    assert production.tls == "acme"
    assert production.acme_directory == LETSENCRYPT_PRODUCTION
    assert production.hosts == (Host(address="web1.example.com", user="deploy"),)
    assert production.hosts[0].roles == ("web", "app", "db", "cache")


def test_asgi_and_pyproject_are_accepted():
    config = parse_config(
        config_text("requirements: pyproject.toml\n", entry="asgi: notes.asgi:application\n")
    )
    assert config.entry_point == ("asgi", "notes.asgi:application")
    assert config.uses_pyproject


def test_hooks_take_commands_and_task_files():
    config = parse_config(
        config_text(
            "hooks:\n"
            "  after_build: [python manage.py compilemessages]\n"
            "  before_switch:\n"
            "    - command: python manage.py createcachetable\n"
            "    - tasks: deploy/hooks/before_switch.yml\n"
        )
    )
    assert config.hooks.after_build == (Hook(command="python manage.py compilemessages"),)
    assert config.hooks.before_switch == (
        Hook(command="python manage.py createcachetable"),
        Hook(tasks="deploy/hooks/before_switch.yml"),
    )
    assert config.hooks.before_migrate == ()
    assert parse_config(config_text()).hooks == Hooks()


def test_processes_take_a_command_a_list_or_their_settings():
    config = parse_config(
        config_text(
            "processes:\n"
            "  worker: celery -A proj worker --loglevel 'INFO'\n"
            "  alerts: [python, manage.py, send_alerts, --forever]\n"
            "  beat: {command: celery -A proj beat, singleton: true, stop_timeout: 10}\n"
            "  rq: {command: [rq, worker, high, low], instances: 3}\n"
        )
    )
    assert config.processes == {
        "worker": Process(command=("celery", "-A", "proj", "worker", "--loglevel", "INFO")),
        "alerts": Process(command=("python", "manage.py", "send_alerts", "--forever")),
        "beat": Process(command=("celery", "-A", "proj", "beat"), singleton=True, stop_timeout=10),
        "rq": Process(command=("rq", "worker", "high", "low"), instances=3),
    }
    assert list(config.processes) == ["worker", "alerts", "beat", "rq"]
    assert parse_config(config_text()).processes == {}


def test_scheduled_jobs_take_a_command_and_a_calendar():
    config = parse_config(
        config_text(
            "schedule:\n"
            "  clearsessions: {command: python manage.py clearsessions, calendar: daily}\n"
            "  report: {command: [python, manage.py, report], calendar: 'Mon..Fri 06:30', "
            "timeout: 600}\n"
        )
    )
    assert config.schedule == {
        "clearsessions": Job(command=("python", "manage.py", "clearsessions"), calendar="daily"),
        "report": Job(
            command=("python", "manage.py", "report"), calendar="Mon..Fri 06:30", timeout=600
        ),
    }
    assert parse_config(config_text()).schedule == {}
    # Shown as written, one line each.
    shown = config_as_data(config)["schedule"]
    assert shown["report"] == {
        "command": "python manage.py report",
        "calendar": "Mon..Fri 06:30",
        "timeout": 600,
    }


def test_self_signed_tls_needs_no_acme_email():
    config = parse_config(config_text(acme_email="tls: self-signed\n"))
    assert config.environment("production").acme_email is None


def test_yaml_merge_keys_and_anchors_work():
    text = config_text(
        "env: &common\n  TZ: UTC\n",
        "env:\n  <<: *common\n  FEATURE: 'on'\n",
    )
    assert parse_config(text).env_for("production") == {"TZ": "UTC", "FEATURE": "on"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sandbox:web1", {"sandbox": "web1"}),
        ("203.0.113.10", {"address": "203.0.113.10"}),
        ("2001:db8::1", {"address": "2001:db8::1"}),
        ("[2001:db8::1]:2222", {"address": "2001:db8::1", "port": 2222}),
        ("deploy@[2001:db8::1]", {"address": "2001:db8::1", "user": "deploy"}),
        (
            "deploy@web2.example.com:2222",
            {"address": "web2.example.com", "user": "deploy", "port": 2222},
        ),
        ("web1", {"address": "web1"}),
    ],
)
def test_host_strings_parse(text, expected):
    assert parse_host_string(text) == expected
    host = Host.model_validate(text)
    assert host.roles == ("web", "app", "db", "cache")


def test_a_host_built_in_code_is_checked_too():
    with pytest.raises(ValidationError, match="set address or sandbox, not both"):
        Host(sandbox="web1", address="203.0.113.10")
    with pytest.raises(ValidationError, match="wsgi and asgi are both set"):
        ProjectConfig.model_validate(
            {
                "app": "notes",
                "settings": "notes.settings",
                "wsgi": "notes.wsgi:application",
                "asgi": "notes.asgi:application",
                "environments": {
                    "production": {"hosts": ["web1"], "domains": ["a.example"], "tls": "provided"}
                },
            }
        )


# --- one problem at a time -------------------------------------------------------------------

CASES = {
    "domain with a space": (
        config_text(domains="['exa mple.com']"),
        "environments.production.domains[0]: 'exa mple.com' is not a valid host name "
        "(use letters, digits and hyphens, labels separated by dots)",
    ),
    "uppercase domain": (
        config_text(domains="[WWW.Example.com]"),
        "environments.production.domains[0]: 'WWW.Example.com': write it in lowercase: "
        "'www.example.com'",
    ),
    "wildcard domain": (
        config_text(domains="['*.example.com']"),
        "environments.production.domains[0]: '*.example.com': wildcard names are not supported",
    ),
    "label too long": (
        config_text(domains=f"[{'a' * 64}.example.com]"),
        f"environments.production.domains[0]: '{'a' * 64}.example.com': the label "
        f"'{'a' * 20}'… is longer than 63 characters",
    ),
    "URL given as domain": (
        config_text(domains="['https://example.com/']"),
        "environments.production.domains[0]: 'https://example.com/': give the host name only, "
        "without the scheme: 'example.com'",
    ),
    "duplicate domains": (
        config_text(domains="[example.com, www.example.com, example.com]"),
        "environments.production.domains[2]: 'example.com' is listed twice "
        "(also at environments.production.domains[0]); list each domain once",
    ),
    "no domains": (
        config_text(domains="[]"),
        "environments.production.domains: is empty; list at least one domain",
    ),
    "wsgi and asgi both": (
        config_text("asgi: notes.asgi:application\n"),
        "asgi: wsgi and asgi are both set; keep the one your app is served by",
    ),
    "neither wsgi nor asgi": (
        config_text(entry=""),
        "wsgi: missing; set wsgi: PROJECT.wsgi:application (or asgi: PROJECT.asgi:application "
        "for an ASGI app)",
    ),
    "entry point without callable": (
        config_text(entry="wsgi: notes.wsgi\n"),
        "wsgi: 'notes.wsgi' names no callable; write it as 'notes.wsgi:application'",
    ),
    "uwsgi cannot serve asgi": (
        config_text("appserver: uwsgi\n", entry="asgi: notes.asgi:application\n"),
        "appserver: uwsgi cannot serve an ASGI app",
    ),
    "port out of range in a host string": (
        config_text(hosts="[deploy@web1.example.com:99999]"),
        "environments.production.hosts[0]: 'deploy@web1.example.com:99999': "
        "the port '99999' is not a number from 1 to 65535",
    ),
    "port out of range in a host mapping": (
        config_text(hosts="[{address: web1.example.com, port: 70000}]"),
        "environments.production.hosts[0].port: 70000 is not a port number; use 1-65535",
    ),
    "port as text in a host mapping": (
        config_text(hosts="[{address: web1.example.com, port: '22'}]"),
        "environments.production.hosts[0].port: must be a number; write it without quotes: 22",
    ),
    "bad role": (
        config_text(hosts="[{address: web1.example.com, roles: [web, app, dbs, cache]}]"),
        "environments.production.hosts[0].roles[2]: 'dbs' is not one of web, app, db, cache "
        "(did you mean 'db'?)",
    ),
    "no host for a service": (
        config_text(hosts="[{address: web1.example.com, roles: [web, app, cache]}]"),
        "environments.production.hosts: no host has the db role (PostgreSQL runs there), "
        "and services include postgres; add db to one host's roles",
    ),
    "host mapping without address": (
        config_text(hosts="[{user: deploy}]"),
        "environments.production.hosts[0].address: missing; add address: HOST",
    ),
    "sandbox host with a user": (
        config_text(hosts="[{sandbox: web1, user: deploy}]"),
        "environments.production.hosts[0].user: a sandbox host takes no user",
    ),
    "invalid sandbox name": (
        config_text(hosts="[sandbox:Web_1]"),
        "environments.production.hosts[0]: 'sandbox:Web_1': 'Web_1' is not a valid sandbox name",
    ),
    "bad unix user": (
        config_text(hosts="[Deploy@web1.example.com]"),
        "environments.production.hosts[0]: 'Deploy@web1.example.com': 'Deploy' is not a valid "
        "unix user name",
    ),
    "unix user too long in a host string": (
        config_text(hosts=f"[{'u' * 33}@web1.example.com]"),
        f"environments.production.hosts[0]: '{'u' * 33}@web1.example.com': '{'u' * 33}' is not a "
        "valid unix user name (lowercase letters, digits, _ and -, starting with a letter or _, "
        "at most 32 characters)",
    ),
    "host listed twice": (
        config_text(hosts="[web1.example.com, deploy@WEB1.example.com]"),
        "environments.production.hosts[1]: this host is listed twice "
        "(also at environments.production.hosts[0]); list each host once",
    ),
    "no hosts": (
        config_text(hosts="[]"),
        "environments.production.hosts: is empty; list at least one host",
    ),
    "unknown top-level key": (
        config_text("requirments: requirements.txt\n"),
        "requirments: unknown key 'requirments' (did you mean 'requirements'?)",
    ),
    "unknown environment key": (
        config_text(environment="domian: x\n"),
        "environments.production.domian: unknown key 'domian' (did you mean 'domain",
    ),
    "unknown key with no close match": (
        config_text("colour: blue\n"),
        "colour: unknown key 'colour'; the keys here are: app, project_dir, settings,",
    ),
    "environment key at the top level": (
        config_text("tls: acme\n"),
        "tls: unknown key 'tls': tls belongs to an environment (environments.NAME.tls)",
    ),
    "top-level key in an environment": (
        config_text(environment="python: '3.12'\n"),
        "environments.production.python: unknown key 'python': python is set once at the "
        "top level, for every environment",
    ),
    "unknown key in a host mapping": (
        config_text(hosts="[{address: web1.example.com, prot: 22}]"),
        "environments.production.hosts[0].prot: unknown key 'prot' (did you mean 'port'?)",
    ),
    "invalid env var name": (
        config_text("env:\n  bad-name: x\n"),
        "env.bad-name: 'bad-name' is not a valid environment variable name "
        "(letters, digits and _, not starting with a digit)",
    ),
    "number as env value": (
        config_text("env:\n  WORKERS: 4\n"),
        'env.WORKERS: 4 is read as a number in YAML, not a string; quote it: WORKERS: "4"',
    ),
    "boolean as env value": (
        config_text(environment="env:\n  DEBUG: yes\n"),
        "environments.production.env.DEBUG: yes is read as a boolean in YAML, not a string; "
        'quote it: DEBUG: "yes"',
    ),
    "env value left empty": (
        config_text("env:\n  EMPTY:\n"),
        'env.EMPTY: has no value; give a string (write EMPTY: "" for an empty one)',
    ),
    "multi-line env value": (
        config_text('env:\n  BANNER: "a\\nb"\n'),
        "env.BANNER: must be a single line",
    ),
    "secret in env": (
        config_text("env:\n  SECRET_KEY: hunter2\n"),
        "env.SECRET_KEY: secrets are generated on the server or supplied through Ansible Vault; "
        "remove it from env",
    ),
    "renamed secret in an environment's env": (
        config_text("env_names:\n  database_url: DB_URL\n", "env:\n  DB_URL: postgres://x\n"),
        "environments.production.env.DB_URL: secrets are generated on the server or supplied "
        "through Ansible Vault; remove it from env",
    ),
    "name djops sets in env": (
        config_text("env:\n  ALLOWED_HOSTS: '*'\n"),
        "env.ALLOWED_HOSTS: djops sets ALLOWED_HOSTS itself, from the environment's domains",
    ),
    "env names not distinct": (
        config_text("env_names:\n  redis_url: DATABASE_URL\n"),
        "env_names.redis_url: 'DATABASE_URL' is also the name of env_names.database_url; "
        "each variable djops sets needs a name of its own",
    ),
    "invalid env name value": (
        config_text("env_names:\n  release: 1RELEASE\n"),
        "env_names.release: '1RELEASE' is not a valid environment variable name",
    ),
    "missing acme_email with tls acme": (
        config_text(acme_email="tls: acme\n"),
        "environments.production.acme_email: missing; tls: acme needs an e-mail address for "
        "certificate notices: add acme_email: you@example.com (or set tls: self-signed or "
        "tls: provided)",
    ),
    "missing acme_email with default tls": (
        config_text(acme_email=""),
        "environments.production.acme_email: missing; tls is acme by default, which needs",
    ),
    "implausible acme_email": (
        config_text(acme_email="acme_email: ops@localhost\n"),
        "environments.production.acme_email: 'ops@localhost' is not a plausible e-mail address",
    ),
    "acme directory over http": (
        config_text(environment="acme_directory: http://acme.example/dir\n"),
        "environments.production.acme_directory: 'http://acme.example/dir': ACME directories "
        "are served over HTTPS; use https://",
    ),
    "unknown tls mode": (
        config_text(acme_email="tls: selfsigned\n"),
        "environments.production.tls: 'selfsigned' is not one of acme, self-signed, provided "
        "(did you mean 'self-signed'?)",
    ),
    "invalid app name": (
        config_text().replace("app: notes", "app: My-Notes"),
        "app: 'My-Notes' is not a valid app name (lowercase letters, digits and _, starting with "
        "a letter, at most 25 characters, e.g. 'my_notes')",
    ),
    # Its build user, <app>-build, must fit the 31 characters systemd allows a user name.
    "app name too long for its build user": (
        config_text().replace("app: notes", "app: " + "n" * 26),
        f"app: {'n' * 26!r} is not a valid app name (lowercase letters, digits and _, starting "
        "with a letter, at most 25 characters",
    ),
    "reserved app name": (
        config_text().replace("app: notes", "app: postgres"),
        "app: 'postgres' already belongs to the system or to PostgreSQL/Redis; choose another",
    ),
    "missing app": (
        config_text().replace("app: notes\n", ""),
        "app: missing; add app: NAME",
    ),
    "settings as a file name": (
        config_text().replace("settings: notes.settings", "settings: notes/settings.py"),
        "settings: 'notes/settings.py' is a file name; give the module path: 'notes.settings'",
    ),
    "unquoted python version": (
        config_text("python: 3.10\n"),
        'python: 3.10 is read as the number 3.1 in YAML, not a string; quote it: python: "3.10"',
    ),
    "python version with a prefix": (
        config_text("python: python3.12\n"),
        "python: 'python3.12': give the version only: '3.12'",
    ),
    "project_dir outside the repository": (
        config_text("project_dir: ../elsewhere\n"),
        "project_dir: '../elsewhere' leaves the repository; paths must stay inside it",
    ),
    "uv.lock as requirements": (
        config_text("requirements: uv.lock\n"),
        "requirements: 'uv.lock': give 'pyproject.toml'; the uv.lock next to it is used",
    ),
    "bad debian package": (
        config_text("system_packages: [libpq-dev, 'libpq dev']\n"),
        "system_packages[1]: 'libpq dev' is not a valid Debian package name",
    ),
    "debian package with a version": (
        config_text("system_packages: [libpq-dev=16.1]\n"),
        "system_packages[0]: 'libpq-dev=16.1': give the package name only: 'libpq-dev'",
    ),
    "system_packages not a list": (
        config_text("system_packages: libpq-dev\n"),
        "system_packages: must be a list; write [libpq-dev] for a single entry",
    ),
    "unknown service": (
        config_text("services: [postgres, mysql]\n"),
        "services[1]: 'mysql' is not one of postgres, redis",
    ),
    "healthcheck without slash": (
        config_text("healthcheck: healthz\n"),
        "healthcheck: 'healthz' must be a path starting with '/', e.g. '/healthz'",
    ),
    "releases_kept too low": (
        config_text("releases_kept: 1\n"),
        "releases_kept: 1 is out of range; keep 2 to 50 releases",
    ),
    "releases_kept not a number": (
        config_text("releases_kept: many\n"),
        "releases_kept: must be a whole number, not 'many'",
    ),
    "list_separator": (
        config_text("list_separator: ';'\n"),
        "list_separator: ';' is not one of ',', ' '",
    ),
    "environment name": (
        config_text().replace("  production:", "  Production:"),
        "environments.Production: 'Production' is not a valid environment name",
    ),
    "environment without settings": (
        config_text() + "  staging:\n",
        "environments.staging: has no value; give its settings as indented key: value lines",
    ),
    "no environments": (
        "app: notes\nsettings: notes.settings\nwsgi: a.wsgi:app\nenvironments: {}\n",
        "environments: is empty; define at least one environment",
    ),
    "unknown hook stage": (
        config_text("hooks:\n  before_migrat: [./check.sh]\n"),
        "hooks.before_migrat: unknown stage 'before_migrat' (did you mean 'before_migrate'?); "
        "the stages are: before_build, after_build, before_migrate, after_migrate, "
        "before_switch, after_switch",
    ),
    "hook stage given one command, not a list": (
        config_text("hooks:\n  after_migrate: ./warm_cache.sh\n"),
        "hooks.after_migrate: must be a list; write [./warm_cache.sh] for a single entry",
    ),
    "empty hook command": (
        config_text("hooks:\n  before_migrate: [./check.sh, '']\n"),
        "hooks.before_migrate[1]: is empty; write a shell command, command: COMMAND, or "
        "tasks: PATH (an Ansible task file)",
    ),
    "hook that is a number": (
        config_text("hooks:\n  before_migrate: [./check.sh, 42]\n"),
        "hooks.before_migrate[1]: 42 is not a hook; write a shell command, command: COMMAND, or "
        "tasks: PATH",
    ),
    "misspelled hook key": (
        config_text("hooks:\n  before_migrate: [{comand: ./check.sh}]\n"),
        "hooks.before_migrate[0].comand: unknown key 'comand' (did you mean 'command'?)",
    ),
    "hook with command and tasks": (
        config_text("hooks:\n  before_migrate: [{command: ./check.sh, tasks: deploy/a.yml}]\n"),
        "hooks.before_migrate[0]: give command or tasks, not both (two entries run both, in order)",
    ),
    "hook command without value": (
        config_text("hooks:\n  before_migrate: [{command: }]\n"),
        "hooks.before_migrate[0]: command has no value; give the shell command to run",
    ),
    "hook task file with an absolute path": (
        config_text("hooks:\n  before_migrate: [./check.sh, {tasks: /etc/hooks/a.yml}]\n"),
        "hooks.before_migrate[1].tasks: '/etc/hooks/a.yml' must be a path relative to the "
        "repository root, written with '/'",
    ),
    "hook task file outside the repository": (
        config_text("hooks:\n  before_migrate: [{tasks: deploy/../../a.yml}]\n"),
        "hooks.before_migrate[0].tasks: 'deploy/../../a.yml' leaves the repository; "
        "paths must stay inside it",
    ),
    "hook task file that is a directory": (
        config_text("hooks:\n  before_migrate: [{tasks: deploy/hooks/}]\n"),
        "hooks.before_migrate[0].tasks: 'deploy/hooks/' is a directory; give an Ansible task file",
    ),
    "process with an empty command": (
        config_text("processes:\n  worker: ''\n"),
        "processes.worker.command: is empty; give the program and its arguments",
    ),
    "process with no command": (
        config_text("processes:\n  worker: {instances: 2}\n"),
        "processes.worker: has no command; write the command, or command: COMMAND with instances",
    ),
    "process name with a dash": (
        config_text("processes:\n  celery-worker: celery -A proj worker\n"),
        "processes.celery-worker: 'celery-worker' is not a valid process name (lowercase letters, "
        "digits and _",
    ),
    "process command that needs a shell": (
        config_text("processes:\n  worker: celery -A proj worker > /tmp/log\n"),
        "processes.worker.command: runs without a shell, so '>' would reach the program as an "
        "argument; write sh -c '…' to use a shell",
    ),
    "process command with a variable": (
        config_text("processes:\n  worker: celery -A proj worker -c $WORKERS\n"),
        "processes.worker.command: runs without a shell, so '$WORKERS' would reach the program as "
        "written",
    ),
    "process command that starts with manage.py": (
        config_text("processes:\n  alerts: manage.py send_alerts --forever\n"),
        "processes.alerts.command: starts with 'manage.py'; write 'python manage.py …'",
    ),
    "process command with an unclosed quote": (
        config_text('processes:\n  worker: "celery -A \'proj worker"\n'),
        'processes.worker.command: "celery -A \'proj worker" cannot be split into arguments',
    ),
    "no instances of a process": (
        config_text("processes:\n  worker: {command: celery -A proj worker, instances: 0}\n"),
        "processes.worker.instances: 0 is out of range; run 1 to 64 instances",
    ),
    "a process's stop timeout of zero": (
        config_text("processes:\n  worker: {command: celery -A proj worker, stop_timeout: 0}\n"),
        "processes.worker.stop_timeout: 0 is out of range; give 1 to 86400 seconds",
    ),
    "a singleton in several instances": (
        config_text(
            "processes:\n  beat: {command: celery -A proj beat, singleton: true, instances: 2}\n"
        ),
        "processes.beat: a singleton runs once in the environment: remove instances: 2, "
        "or singleton: true",
    ),
    "misspelt process key": (
        config_text("processes:\n  worker: {command: celery -A proj worker, stop_timout: 60}\n"),
        "processes.worker.stop_timout: unknown key 'stop_timout' (did you mean 'stop_timeout'?)",
    ),
    "job with a bad calendar": (
        config_text(
            "schedule:\n  report: {command: python manage.py report, calendar: 'Mon 25:00'}\n"
        ),
        "schedule.report.calendar: 'Mon 25:00' is not a systemd calendar expression; write e.g. "
        "'daily'",
    ),
    "job with no calendar": (
        config_text("schedule:\n  report: {command: python manage.py report}\n"),
        "schedule.report: has no calendar; give command: COMMAND and calendar: WHEN",
    ),
    "job given as a command": (
        config_text("schedule:\n  report: python manage.py report\n"),
        "schedule.report: 'python manage.py report' is not a job; give command: COMMAND and "
        "calendar: WHEN",
    ),
    "job with a shell command": (
        config_text(
            "schedule:\n  report: {command: 'python manage.py report | mail', calendar: daily}\n"
        ),
        "schedule.report.command: runs without a shell, so '|' would reach the program",
    ),
    "job timeout of zero": (
        config_text(
            "schedule:\n  report: {command: python manage.py report, calendar: daily, timeout: 0}\n"
        ),
        "schedule.report.timeout: 0 is out of range; give 1 to 604800 seconds",
    ),
    "media URL under the static files'": (
        config_text("media_url: /static/uploads/\n"),
        "media_url: '/static/uploads/' overlaps the static files' URL '/static/': uploads need a "
        "path of their own",
    ),
    "media URL without its trailing slash": (
        config_text("media_url: /media\n"),
        "media_url: '/media' must be a URL path that starts and ends with '/', e.g. '/media/'",
    ),
    "media URL at the root": (
        config_text("media_url: /\n"),
        "media_url: '/' would serve uploads in place of the whole site",
    ),
    "media URL of another host": (
        config_text("media_url: https://cdn.example.com/media/\n"),
        "media_url: 'https://cdn.example.com/media/': give the path only",
    ),
    "upload size without a unit nginx reads": (
        config_text("max_upload_size: 10MB\n"),
        "max_upload_size: '10MB' is not a size; write a number with k, m or g, e.g. '10m'",
    ),
    "upload size of nothing": (
        config_text("max_upload_size: '0'\n"),
        "max_upload_size: '0' is out of range; allow 1k to 100g",
    ),
    "duplicate key": (
        config_text("releases_kept: 3\nreleases_kept: 4\n"),
        "releases_kept: appears twice (lines 4 and 5); keep one",
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_each_kind_of_problem_is_named_with_its_fix(text, expected):
    assert only_problem(text).startswith(expected)


def test_yaml_syntax_error_names_line_and_column():
    text = "app: notes\nsettings: notes.settings\n  wsgi: notes.wsgi:application\n"
    assert only_problem(text) == (
        "line 3, column 7: not valid YAML: mapping values are not allowed here"
    )


def test_unclosed_bracket_points_at_where_it_opened():
    problem = only_problem("app: notes\nsystem_packages: [libpq-dev, gcc\n")
    assert problem == (
        "line 3, column 1: not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence that starts at line 2)"
    )


def test_several_yaml_documents():
    assert only_problem("app: notes\n---\napp: other\n") == (
        "line 2: the file holds more than one YAML document; keep one"
    )


def test_tab_indentation_gets_a_hint():
    problem = only_problem("app: notes\n\tsettings: x\n")
    assert problem.startswith("line 2, column 1: not valid YAML:")
    assert problem.endswith("indent with spaces, not tabs")


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing yet\n", "---\n"])
def test_empty_file(text):
    assert only_problem(text) == (
        "the file is empty; it needs at least app, settings, wsgi (or asgi) and environments"
    )


@pytest.mark.parametrize(("text", "kind"), [("- app\n", "a list"), ("notes\n", "a str")])
def test_file_that_is_not_a_mapping(text, kind):
    assert only_problem(text).startswith(f"the file holds {kind}; it must be a mapping")


def test_every_problem_is_reported_in_file_order():
    text = textwrap.dedent(
        """\
        app: Notes
        settings: notes.settings
        wsgi: notes.wsgi:application
        asgi: notes.asgi:application
        releases_kept: 100
        env:
          SECRET_KEY: x
          PORT: 8000
        environments:
          production:
            hosts: [deploy@web1.example.com:0, {address: db1.example.com, roles: [dbs]}]
            domains: [exa mple.com, example.com, example.com]
            tls: acme
            hostz: []
        """
    )
    problems = problems_of(text)
    assert [p.split(":")[0] for p in problems] == [
        "app",
        "asgi",
        "releases_kept",
        "env.SECRET_KEY",
        "env.PORT",
        "environments.production.acme_email",
        "environments.production.hosts[0]",
        "environments.production.hosts[1].roles[0]",
        "environments.production.domains[0]",
        "environments.production.domains[2]",
        "environments.production.hostz",
    ]


def test_problems_name_the_file_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "djops.yml").write_text(config_text(hosts="[]", domains="[]"))
    with pytest.raises(ConfigError) as exc_info:
        load_config(Path("deploy/djops.yml"))
    lines = str(exc_info.value).splitlines()
    assert len(lines) == 2
    assert all(line.startswith("deploy/djops.yml: environments.production.") for line in lines)


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match=r"^.*missing\.yml: no such file$"):
        load_config(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    latin1 = tmp_path / "latin1.yml"
    latin1.write_bytes(b"app: notes\nsettings: caf\xe9\n")
    with pytest.raises(ConfigError, match="line 2: not UTF-8 text"):
        load_config(latin1)


# --- finding the file ------------------------------------------------------------------------


def test_find_config_searches_upward_like_git(tmp_path, monkeypatch):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "djops.yml").write_text("app: notes\n")
    deep = tmp_path / "notes" / "templates"
    deep.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert find_config(Path()) == Path("deploy/djops.yml")
    monkeypatch.chdir(deep)
    assert find_config(Path()) == Path("../../deploy/djops.yml")
    assert find_config(Path()).resolve() == (tmp_path / "deploy" / "djops.yml").resolve()
    assert find_config(deep) == tmp_path / "deploy" / "djops.yml"


def test_find_config_says_where_it_looked(tmp_path):
    with pytest.raises(UsageError) as exc_info:
        find_config(tmp_path)
    message = str(exc_info.value)
    assert message == (
        f"no deploy/djops.yml in {tmp_path} or any directory above it; run djops inside your "
        "Django project, or give the file with -c PATH"
    )
    assert "\n" not in message


def test_project_root():
    assert project_root(Path("deploy/djops.yml")) == Path()
    assert project_root(Path("../deploy/djops.yml")) == Path("..")
    assert project_root(Path("/srv/site/djops.yml")) == Path("/srv/site")


# --- environments ---------------------------------------------------------------------------


def test_unknown_environment_names_the_ones_there_are():
    config = load_config(FIXTURE)
    with pytest.raises(UsageError) as exc_info:
        config.environment("prod")
    assert str(exc_info.value) == (
        "no environment 'prod' in the config (did you mean 'production'?); "
        "it defines: production, staging"
    )
    with pytest.raises(UsageError, match=r"it defines: production, staging$"):
        config.env_for("qa")


def test_config_as_data_merges_one_environment():
    config = load_config(FIXTURE)
    everything = config_as_data(config)
    assert next(iter(everything)) == "app"
    assert list(everything)[-1] == "environments"
    assert everything["environments"]["production"]["tls"] == "acme"
    assert "asgi" not in everything
    staging = config_as_data(config, "staging")
    assert staging["environment"] == "staging"
    assert "environments" not in staging
    assert staging["env"] == {
        "DJANGO_LOG_LEVEL": "DEBUG",
        "DEFAULT_FROM_EMAIL": "notes@example.com",
    }
    assert staging["hosts"][0] == {"sandbox": "web1", "roles": ["web", "app", "db", "cache"]}
    assert staging["domains"] == ["staging.example.com"]
    assert staging["releases_kept"] == 5
    with pytest.raises(UsageError):
        config_as_data(config, "nope")


# --- the project around the file -------------------------------------------------------------


def make_project(root: Path, text: str) -> Path:
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "djops.yml").write_text(text)
    (root / "manage.py").write_text("")
    (root / "requirements.txt").write_text("Django\n")
    return root / "deploy" / "djops.yml"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".python-version": "3.13\n"}, "3.13"),
        ({".python-version": "cpython-3.12.4\n"}, "3.12.4"),
        # A requires-python specifier is passed on as it is: uv takes the distro's Python
        # when it satisfies it.
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.11"\n'}, ">=3.11"),
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.10, <4"\n'}, ">=3.10,<4"),
        ({"pyproject.toml": '[project]\nrequires-python = "~=3.12.1"\n'}, "~=3.12.1"),
        ({"pyproject.toml": '[project]\nrequires-python = "==3.12.4"\n'}, "==3.12.4"),
        (
            {".python-version": "3.14\n", "pyproject.toml": 'project.requires-python = ">=3.12"\n'},
            "3.14",
        ),
    ],
)
def test_python_follows_the_project(tmp_path, files, expected):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    assert resolve_python(parse_config(config_text()), tmp_path) == expected
    assert resolve_python(parse_config(config_text("python: '3.11'\n")), tmp_path) == "3.11"


def test_python_unknown_is_a_problem(tmp_path):
    with pytest.raises(UsageError, match=r'^python: not set, .* set python: "3.12"'):
        resolve_python(parse_config(config_text()), tmp_path)


def test_check_config_looks_at_the_project(tmp_path):
    path = make_project(tmp_path, config_text("python: '3.12'\n", ADMINS))
    assert check_config(path).app == "notes"
    (tmp_path / "manage.py").unlink()
    (tmp_path / "requirements.txt").unlink()
    with pytest.raises(ConfigError) as exc_info:
        check_config(path)
    assert [p.split(":")[0] for p in exc_info.value.problems] == ["project_dir", "requirements"]


def test_check_config_looks_for_the_hooks_task_files(tmp_path):
    path = make_project(
        tmp_path,
        config_text(
            "python: '3.12'\n"
            "hooks:\n"
            "  before_migrate: [./check.sh]\n"
            "  before_switch: [./check.sh, {tasks: deploy/hooks/before_switch.yml}]\n",
            ADMINS,
        ),
    )
    with pytest.raises(ConfigError) as exc_info:
        check_config(path)
    missing = tmp_path / "deploy" / "hooks" / "before_switch.yml"
    assert exc_info.value.problems == [f"hooks.before_switch[1].tasks: {missing} does not exist"]
    (tmp_path / "deploy" / "hooks").mkdir()
    (tmp_path / "deploy" / "hooks" / "before_switch.yml").write_text("---\n")
    assert check_config(path).hooks.before_switch[1].tasks == "deploy/hooks/before_switch.yml"


# --- what the roles would refuse, refused offline -------------------------------------------------

RSA_2048_KEY = (SSH_KEYS / "rsa2048.pub").read_text().strip()
RSA_1024_KEY = (SSH_KEYS / "rsa1024.pub").read_text().strip()
ECDSA_KEY = (SSH_KEYS / "ecdsa.pub").read_text().strip()


def test_an_alias_bomb_stops_early_with_one_short_message():
    # Each line refers nine times to the one before: 9**7 values from a few hundred bytes.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 7):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 700
    started = time.monotonic()
    problems = problems_of(text)
    assert time.monotonic() - started < 1
    assert len(problems) == 1
    assert problems[0].startswith("too many YAML nodes (aliases expanding to ")
    assert len(problems[0]) < 200


def test_a_long_value_is_cut_in_messages():
    problem = only_problem(config_text("appserver: " + "x" * 5000 + "\n"))
    assert problem.startswith("appserver: 'xxx")
    assert len(problem) < 200
    assert "…" in problem


@pytest.mark.parametrize("merged", ["[1, 2]", "5", "[*envs, [1]]"])
def test_a_merge_key_that_is_not_a_mapping_is_an_error(merged):
    text = config_text("envs: &envs {A: b}\nenv:\n  <<: " + merged + "\n")
    problems = problems_of(text)
    assert any("'<<' merges mappings only" in p for p in problems), problems


@pytest.mark.parametrize(
    "hosts",
    [
        "[fe80::1%eth0]",
        '["fe80::1%$(id)"]',
        '["deploy@[fe80::1%eth0]:22"]',
        "[{address: 'fe80::1%eth0'}]",
        "[{address: 'fe80::1%$(id)'}]",
    ],
)
def test_an_ipv6_address_with_a_scope_id_is_refused(hosts):
    problem = only_problem(config_text(hosts=hosts, environment=ADMINS))
    assert problem.startswith("environments.production.hosts[0]")
    assert "scope id (%…) are not supported" in problem


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("localhost", "localhost names always mean the visitor's own machine"),
        ("notes.localhost", "localhost names always mean the visitor's own machine"),
        ("intranet", "is a single label; give a fully qualified name"),
        ("notes.example.123", "the top-level domain) must start with a letter"),
        ("203.0.113.10", "is an IP address"),
    ],
)
def test_domains_the_web_roles_refuse_are_refused(domain, message):
    problem = only_problem(config_text(domains=f"['{domain}']", environment="tls: self-signed\n"))
    assert problem.startswith("environments.production.domains[0]: ")
    assert message in problem


def test_acme_with_lets_encrypt_refuses_reserved_names_and_over_100_names():
    problem = only_problem(config_text(domains="[notes.test]"))
    assert problem == (
        "environments.production.domains[0]: 'notes.test': names under .test are reserved and "
        "Let's Encrypt issues no certificates for them; use tls: self-signed (or tls: provided)"
    )
    many = "[" + ", ".join(f"n{i}.example.com" for i in range(101)) + "]"
    problem = only_problem(config_text(domains=many))
    assert problem.startswith("environments.production.domains: 101 names; an ACME certificate")
    hundred = "[" + ", ".join(f"n{i}.example.com" for i in range(100)) + "]"
    parse_config(config_text(domains=hundred))
    # A private ACME server sets its own rules.
    parse_config(
        config_text(domains="[notes.test]", environment="acme_directory: https://ca.test/dir\n")
    )


@pytest.mark.parametrize("app", ["deploy", "git", "mysql", "mariadb", "jenkins"])
def test_an_app_named_like_a_common_account_is_refused(app):
    text = config_text(hosts="[web1.example.com]").replace("app: notes", f"app: {app}")
    problem = only_problem(text)
    assert problem.startswith(f"app: {app!r} is the name of an account servers often have")


def test_an_app_named_like_a_login_user_or_an_admin_is_refused():
    problem = only_problem(config_text(hosts="[notes@web1.example.com]"))
    assert problem.startswith(
        "environments.production.hosts[0]: djops logs in as 'notes', the app's name"
    )
    admins = f"admin_users:\n  - name: notes\n    keys: ['{ED25519_KEY}']\n"
    problem = only_problem(config_text(environment=admins))
    assert problem.startswith("environments.production.admin_users[0].name: 'notes' is the app's")


def test_admin_users_become_the_base_roles_users():
    admins = (
        "admin_users:\n"
        f"  - name: deploy\n    keys: ['{ED25519_KEY}', '{RSA_2048_KEY}']\n"
        f"  - name: alice\n    keys: ['{ECDSA_KEY}']\n"
    )
    config = parse_config(config_text(environment=admins))
    users = config.environment("production").admin_users
    assert [(u.name, u.keys) for u in users] == [
        ("deploy", (ED25519_KEY, RSA_2048_KEY)),
        ("alice", (ECDSA_KEY,)),
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\\n",
            "is a private key, which must never leave your machine",
        ),
        (
            "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
            "is not an OpenSSH public key: it starts with 'ssh-dss'",
        ),
        ("AAAAC3NzaC1lZDI1NTE5AAAAILwY", "is not an OpenSSH public key"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA!", "is not base64"),
        ("ssh-ed25519 " + RSA_2048_KEY.split()[1], "is not a ssh-ed25519 key"),
        ("ssh-ed25519 " + ED25519_KEY.split()[1][:64], "has the wrong length"),
        (RSA_1024_KEY, "shorter than 2048 bits"),
    ],
)
def test_admin_keys_must_be_public_keys_the_base_role_takes(key, message):
    admins = f'admin_users:\n  - name: deploy\n    keys: ["{key}"]\n'
    problem = only_problem(config_text(environment=admins))
    assert problem.startswith("environments.production.admin_users[0].keys[0]: ")
    assert message in problem
    assert "b3BlbnNzaC1rZXktdjEA" not in problem  # a private key is never echoed


def test_admin_users_need_keys_and_distinct_names_and_not_root():
    assert only_problem(config_text(environment="admin_users: [{name: deploy, keys: []}]\n")) == (
        "environments.production.admin_users[0].keys: is empty; give at least one entry"
    )
    twice = "admin_users:\n" + f"  - {{name: deploy, keys: ['{ED25519_KEY}']}}\n" * 2
    assert "is listed twice" in only_problem(config_text(environment=twice))
    root = f"admin_users: [{{name: root, keys: ['{ED25519_KEY}']}}]\n"
    assert "root login is always refused" in only_problem(config_text(environment=root))


def test_check_config_wants_admin_users_for_real_hosts(tmp_path):
    path = make_project(tmp_path, config_text("python: '3.12'\n"))
    with pytest.raises(ConfigError) as exc_info:
        check_config(path)
    assert exc_info.value.problems == [
        "environments.production.admin_users: missing; the servers are hardened to let in only "
        "the admin users listed here: add admin_users: with your user name and public key "
        "(see docs/config.md)"
    ]
    other = f"admin_users:\n  - name: alice\n    keys: ['{ED25519_KEY}']\n"
    path.write_text(config_text("python: '3.12'\n", other))
    with pytest.raises(ConfigError) as exc_info:
        check_config(path)
    assert exc_info.value.problems == [
        "environments.production.hosts[0]: djops logs in as 'deploy', which is not in "
        "admin_users; hardening would shut it out: add it to admin_users with its public key"
    ]
    path.write_text(config_text("python: '3.12'\n", other, hosts="[root@web1.example.com]"))
    assert check_config(path).app == "notes"


PEM_CERTIFICATE, PEM_KEY = certificate_and_key("www.example.com")
PROVIDED = "tls:\n  certificate: deploy/tls/fullchain.pem\n  private_key: ~/notes.key\n"


def test_tls_provided_takes_the_certificate_and_key_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = make_project(tmp_path, config_text("python: '3.12'\n", PROVIDED + ADMINS, acme_email=""))
    tls = load_config(path).environment("production").tls
    assert (tls.certificate, tls.private_key) == ("deploy/tls/fullchain.pem", "~/notes.key")
    with pytest.raises(ConfigError) as exc_info:
        check_config(path)
    assert exc_info.value.problems == [
        f"environments.production.tls.certificate: {tmp_path}/deploy/tls/fullchain.pem does not "
        "exist",
        f"environments.production.tls.private_key: {tmp_path}/home/notes.key does not exist",
    ]
    (tmp_path / "deploy" / "tls").mkdir()
    (tmp_path / "deploy" / "tls" / "fullchain.pem").write_text(PEM_KEY)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.key").write_text(PEM_CERTIFICATE)
    with pytest.raises(ConfigError) as exc_info:
        check_config(path)
    assert exc_info.value.problems == [
        f"environments.production.tls.certificate: {tmp_path}/deploy/tls/fullchain.pem is not "
        "a PEM certificate chain (leaf first)",
        f"environments.production.tls.private_key: {tmp_path}/home/notes.key is not a PEM "
        "private key",
    ]
    (tmp_path / "deploy" / "tls" / "fullchain.pem").write_text(PEM_CERTIFICATE)
    (tmp_path / "home" / "notes.key").write_text(PEM_KEY)
    assert check_config(path).environment("production").tls_source == "provided"


def test_tls_provided_refuses_a_key_the_web_hosts_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = make_project(tmp_path, config_text("python: '3.12'\n", PROVIDED + ADMINS, acme_email=""))
    (tmp_path / "deploy" / "tls").mkdir()
    (tmp_path / "deploy" / "tls" / "fullchain.pem").write_text(PEM_CERTIFICATE)
    (tmp_path / "home").mkdir()
    key_file = tmp_path / "home" / "notes.key"
    _, other_key = certificate_and_key("www.example.com")
    _, encrypted_key = certificate_and_key("www.example.com", passphrase=b"secret")
    for key, message in [
        (other_key, "is not the key of"),
        (encrypted_key, "is encrypted with a passphrase"),
        ("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", "no readable PEM"),
    ]:
        key_file.write_text(key)
        with pytest.raises(ConfigError) as exc_info:
            check_config(path)
        (problem,) = exc_info.value.problems
        assert problem.startswith(f"environments.production.tls.private_key: {key_file} ")
        assert message in problem
        assert key.splitlines()[1] not in problem


def test_tls_provided_without_files_is_refused_and_the_names_still_work():
    assert only_problem(config_text(environment="tls: provided\n", acme_email="")) == (
        "environments.production.tls: provided needs the certificate and its key: write tls: "
        "with certificate: PATH and private_key: PATH (PEM files on this machine) under it"
    )
    problem = only_problem(config_text(environment="tls: {certificate: a.pem}\n", acme_email=""))
    assert problem.startswith("environments.production.tls.private_key: missing")
    problems = problems_of(config_text(environment="tls: {certficate: a.pem, private_key: k}\n"))
    assert problems == [
        "environments.production.tls.certificate: missing; add certificate:",
        "environments.production.tls.certficate: unknown key 'certficate' (did you mean "
        "'certificate'?)",
    ]
    for name in ("acme", "self-signed"):
        env = parse_config(config_text(environment=f"tls: {name}\n")).environment("production")
        assert env.tls == env.tls_source == name
    assert only_problem(config_text(environment="tls: selfsigned\n")).startswith(
        "environments.production.tls: 'selfsigned' is not one of acme, self-signed, provided"
    )
