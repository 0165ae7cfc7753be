"""Names that an app or an environment variable cannot have, because something else owns them.

The roles and the env_problems filter keep the same lists; unit tests check that they agree
(wrapper/tests/test_reserved_app_names.py and wrapper/tests/test_env_names.py).
"""

from __future__ import annotations

# Directories djops keeps in /etc/djops, next to each app's own /etc/djops/<app>.
_ETC_DJOPS_DIRS = frozenset({"secrets", "tls", "nftables", "backup.d", "restore.d"})
# Names that already belong to the system on Debian/Ubuntu, to PostgreSQL/Redis or to djops; an app
# of that name would take over (or fail to create) a unix user or group, database, role, Redis user
# or directory that is not its own. The roles refuse them too: every name in their lists
# (roles/{appserver,postgres,redis}/vars/main.yml) must be here, which a unit test checks. Names
# with '-' or '.' cannot pass _APP_RE anyway; they are here to keep the lists whole.
_RESERVED_APP_NAMES = frozenset(
    {
        # users and groups of Debian and Ubuntu
        "root", "daemon", "bin", "sys", "sync", "adm", "tty", "disk", "lp", "mail", "news",
        "uucp", "man", "proxy", "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape",
        "sudo", "audio", "dip", "backup", "operator", "list", "irc", "src", "gnats", "shadow",
        "utmp", "video", "sasl", "plugdev", "staff", "games", "users", "nogroup", "nobody",
        "input", "kvm", "render", "sgx", "netdev", "crontab", "ssh", "sshd", "messagebus",
        "syslog", "uuidd", "tcpdump", "tss", "polkitd", "dnsmasq", "usbmux", "landscape",
        "pollinate", "chrony", "ntp", "lxd", "docker", "wheel", "admin", "ubuntu", "debian",
        # users of the services djops installs, and PostgreSQL's and Redis's own names
        "www-data", "nginx", "certbot", "postgres", "redis", "public", "template0", "template1",
        "default", "djops-admin",
        "djops",
    }
    | _ETC_DJOPS_DIRS
)  # fmt: skip
# Accounts a server often has besides the distribution's: logins made by cloud images and admins,
# and services installed by hand. The appserver role refuses any existing account djops did not
# make when it provisions; this list catches the usual ones offline, in `djops config check`.
_COMMON_ACCOUNT_NAMES = frozenset(
    {
        "deploy", "git", "mysql", "mariadb", "mongodb", "memcache", "rabbitmq", "postfix",
        "dovecot", "bind", "named", "unbound", "haproxy", "apache", "gitlab", "gitea", "jenkins",
        "prometheus", "grafana", "elasticsearch", "vagrant", "centos", "fedora", "avahi",
        "colord", "geoclue", "saned", "rtkit", "whoopsie", "kernoops", "pulse", "lightdm", "gdm",
        "cups", "ftp", "www", "user", "guest",
    }
)  # fmt: skip
# PostgreSQL refuses role names starting with this; an app's are <app>_owner, <app>_a and <app>_b.
_POSTGRES_ROLE_PREFIX = "pg_"

# The variables djops sets for the app, by their key under env_names, with their default names.
# EnvNames takes its defaults from here, so that the rules, which models.py imports, need not
# import the model.
_DEFAULT_ENV_NAMES = {
    "secret_key": "SECRET_KEY",
    "secret_key_fallbacks": "SECRET_KEY_FALLBACKS",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "allowed_hosts": "ALLOWED_HOSTS",
    "csrf_trusted_origins": "CSRF_TRUSTED_ORIGINS",
    "release": "APP_RELEASE",
    "media_root": "MEDIA_ROOT",
}
# Set on the server from other fields; a value in env would silently fight djops.
_MANAGED_ENV_SOURCES = {
    "allowed_hosts": "from the environment's domains",
    "csrf_trusted_origins": "from the environment's domains",
    "release": "to the id of the release being served",
    "media_root": "to the app's shared/media directory",
}
_SECRET_ENV_FIELDS = ("secret_key", "secret_key_fallbacks", "database_url", "redis_url")
_VAULT_HINT = (
    "secrets are generated on the server or supplied through Ansible Vault; remove it from env"
)
# Names no env var may have, in env or as a name under env_names: they would break or take over
# the app's processes, or djops sets them. The roles refuse the same names (a unit test checks
# plugins/filter/env_problems.py holds the same lists).
_SHELL_ENV = "it changes how the shell runs djops' commands and hooks"
_ACCOUNT_ENV = "systemd sets it from the app's unix account"
_SYSTEMD_ENV = "systemd sets it for the app server (socket activation, readiness, logging)"
_RESERVED_ENV_NAMES = {
    "PATH": "djops sets it, the release's venv first",
    **dict.fromkeys(("HOME", "USER", "LOGNAME", "SHELL"), _ACCOUNT_ENV),
    **dict.fromkeys(
        ("IFS", "ENV", "BASH_ENV", "CDPATH", "SHELLOPTS", "BASHOPTS", "PS4"), _SHELL_ENV
    ),
    **dict.fromkeys(
        (
            "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "INVOCATION_ID",
            "JOURNAL_STREAM", "RUNTIME_DIRECTORY", "CREDENTIALS_DIRECTORY", "MAINPID",
            "SYSTEMD_EXEC_PID",
        ),
        _SYSTEMD_ENV,
    ),
    "GUNICORN_CMD_ARGS": "gunicorn reads options from it that would override djops' own",
    "DJANGO_SETTINGS_MODULE": "djops sets it from settings",
    "STATIC_ROOT": "djops sets it to the release's static directory",
}  # fmt: skip
_RESERVED_ENV_PREFIXES = {
    "LD_": "the dynamic loader reads it: it would load other code into every process",
    "BASH_FUNC_": "bash imports it as a function, into every shell djops runs",
    "UWSGI_": "uWSGI reads options from it that would override djops' own",
    "PYTHON": "it changes where Python finds or how it runs the app's code",
}
# PYTHON* variables that only tune output, warnings and diagnostics.
_PYTHON_ENV_ALLOWED = frozenset(
    {
        "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONUTF8",
        "PYTHONWARNINGS", "PYTHONFAULTHANDLER", "PYTHONTRACEMALLOC", "PYTHONDEVMODE",
        "PYTHONHASHSEED", "PYTHONOPTIMIZE",
    }
)  # fmt: skip
# The kernel passes each "NAME=value" in at most MAX_ARG_STRLEN (131072) bytes with its NUL;
# all of them together stay well under ARG_MAX (2 MiB), which arguments and djops' own share.
_MAX_ENV_VAR_BYTES = 131072 - 1
_MAX_ENV_TOTAL_BYTES = 1024 * 1024


def _reserved_env_reason(name: str) -> str | None:
    """Why no env var may be called `name`, or None when one may."""
    if name in _RESERVED_ENV_NAMES:
        return _RESERVED_ENV_NAMES[name]
    if name in _PYTHON_ENV_ALLOWED:
        return None
    return next((why for p, why in _RESERVED_ENV_PREFIXES.items() if name.startswith(p)), None)
