"""The rules that tie fields together: wsgi or asgi, a host for each role, acme_email when tls is
acme, no host or domain listed twice, the app's account apart from the logins, and the env rules.

They work on the raw data, not on the models, so that they report their problems even when some
field is broken: pydantic's after-validators would not run then. `_cross_field_problems` is the
entry point; the models call it too when they are built outside `parse_config`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from djops.config.constants import (
    ALL_ROLES,
    ALL_SERVICES,
    LETSENCRYPT_PRODUCTION,
    LETSENCRYPT_STAGING,
    SERVICE_ROLE,
)
from djops.config.env_rules import (
    _effective_env_names,
    _env_names_problems,
    _env_problems,
    _env_total_problems,
)
from djops.config.network import parse_host_string
from djops.config.problems import Loc, Problem, format_loc

# What each role means on a host, and which service needs it (for messages).
_ROLE_PURPOSE = {"web": "nginx", "app": "the app server", "db": "PostgreSQL", "cache": "Redis"}


def _present(mapping: Mapping[str, Any], key: str) -> bool:
    return mapping.get(key) is not None


def _duplicate_problems(items: Any, loc: Loc, what: str) -> Iterator[Problem]:
    if not isinstance(items, list | tuple):
        return
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, str):
            continue
        if item in first:
            yield Problem(
                (*loc, index),
                f"{item!r} is listed twice (also at {format_loc((*loc, first[item]))}); "
                f"list each {what} once",
            )
        else:
            first[item] = index


def _host_mapping_problems(host: Mapping[str, Any], loc: Loc) -> list[Problem]:
    problems = []
    if _present(host, "sandbox"):
        if _present(host, "address"):
            problems.append(Problem((*loc, "address"), "set address or sandbox, not both"))
        problems.extend(
            Problem((*loc, key), f"a sandbox host takes no {key}: djops knows how to reach it")
            for key in ("user", "port")
            if _present(host, key)
        )
    elif not _present(host, "address"):
        problems.append(
            Problem(
                (*loc, "address"),
                "missing; add address: HOST (a host name or IP address), "
                "or sandbox: NAME for a djops sandbox host",
            )
        )
    problems.extend(_duplicate_problems(host.get("roles"), (*loc, "roles"), "role"))
    return problems


def _raw_host(entry: Any) -> Mapping[str, Any] | None:
    """A host entry as a mapping, or None when it is malformed (reported elsewhere)."""
    if isinstance(entry, str):
        try:
            return parse_host_string(entry)
        except ValueError:
            return None
    return entry if isinstance(entry, Mapping) else None


def _host_identity(host: Mapping[str, Any]) -> str | None:
    if isinstance(host.get("sandbox"), str):
        return f"sandbox:{host['sandbox']}"
    address = host.get("address")
    if not isinstance(address, str):
        return None
    address = address.lower()
    port = host.get("port")
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _valid_roles(host: Mapping[str, Any]) -> set[str] | None:
    roles = host.get("roles", ALL_ROLES)
    if roles is None:
        return None
    if not isinstance(roles, list | tuple) or not all(r in ALL_ROLES for r in roles):
        return None
    return set(roles)


def _hosts_problems(hosts: Any, loc: Loc, services: Sequence[str]) -> list[Problem]:
    if not isinstance(hosts, list | tuple) or not hosts:
        return []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    roles_per_host: list[set[str] | None] = []
    for index, entry in enumerate(hosts):
        host = _raw_host(entry)
        if host is None:
            roles_per_host.append(None)
            continue
        if isinstance(entry, Mapping):
            problems.extend(_host_mapping_problems(host, (*loc, index)))
        identity = _host_identity(host)
        if identity is not None and identity in seen:
            problems.append(
                Problem(
                    (*loc, index),
                    f"this host is listed twice (also at {format_loc((*loc, seen[identity]))}); "
                    "list each host once",
                )
            )
        elif identity is not None:
            seen[identity] = index
        roles_per_host.append(_valid_roles(host))
    if any(roles is None for roles in roles_per_host):
        return problems  # some host is broken; its roles cannot be judged yet
    needed = ["web", "app"] + [SERVICE_ROLE[s] for s in services if s in SERVICE_ROLE]
    for role in needed:
        if not any(role in roles for roles in roles_per_host if roles is not None):
            service = _service_of(role)
            because = f", and services include {service}" if service else ""
            problems.append(
                Problem(
                    loc,
                    f"no host has the {role} role ({_ROLE_PURPOSE[role]} runs there){because}; "
                    f"add {role} to one host's roles",
                )
            )
    return problems


def _service_of(role: str) -> str | None:
    return next((service for service, r in SERVICE_ROLE.items() if r == role), None)


# Top-level domains kept for tests, examples and local networks (RFC 2606, 6761, 6762, 8375):
# Let's Encrypt issues no certificates for names under them.
_UNISSUABLE_TLDS = ("test", "example", "invalid", "local", "internal", "home.arpa", "onion")
# Let's Encrypt's limit of names on one certificate (each site gets one certificate).
_ACME_MAX_DOMAINS = 100


def _acme_domain_problems(domains: Any, loc: Loc) -> list[Problem]:
    if not isinstance(domains, list | tuple):
        return []
    problems = []
    if len(domains) > _ACME_MAX_DOMAINS:
        problems.append(
            Problem(
                loc,
                f"{len(domains)} names; an ACME certificate carries at most {_ACME_MAX_DOMAINS} "
                "(Let's Encrypt's limit): list fewer, or split the names over environments",
            )
        )
    for index, domain in enumerate(domains):
        if not isinstance(domain, str):
            continue
        tld = next((t for t in _UNISSUABLE_TLDS if domain.endswith(f".{t}")), None)
        if tld is not None:
            problems.append(
                Problem(
                    (*loc, index),
                    f"{domain!r}: names under .{tld} are reserved and Let's Encrypt issues no "
                    "certificates for them; use tls: self-signed (or tls: provided)",
                )
            )
    return problems


def _environment_problems(
    environment: Mapping[str, Any], loc: Loc, names: Mapping[str, str], services: Sequence[str]
) -> list[Problem]:
    problems = _hosts_problems(environment.get("hosts"), (*loc, "hosts"), services)
    problems.extend(_duplicate_problems(environment.get("domains"), (*loc, "domains"), "domain"))
    tls = environment.get("tls", "acme")
    directory = environment.get("acme_directory", LETSENCRYPT_PRODUCTION)
    if tls == "acme" and directory in (LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING):
        # A private ACME server (a company CA, a test one) sets its own rules.
        problems.extend(_acme_domain_problems(environment.get("domains"), (*loc, "domains")))
    if tls == "acme" and not _present(environment, "acme_email"):
        why = "tls: acme" if "tls" in environment else "tls is acme by default, which"
        problems.append(
            Problem(
                (*loc, "acme_email"),
                f"missing; {why} needs an e-mail address for certificate notices: add "
                "acme_email: you@example.com (or set tls: self-signed or tls: provided)",
            )
        )
    if tls == "provided":
        problems.append(
            Problem(
                (*loc, "tls"),
                "provided needs the certificate and its key: write tls: with certificate: PATH "
                "and private_key: PATH (PEM files on this machine) under it",
            )
        )
    problems.extend(_admin_users_problems(environment.get("admin_users"), (*loc, "admin_users")))
    problems.extend(_env_problems(environment.get("env"), (*loc, "env"), names))
    return problems


def _admin_users_problems(users: Any, loc: Loc) -> list[Problem]:
    if not isinstance(users, list | tuple):
        return []
    names = [u.get("name") if isinstance(u, Mapping) else None for u in users]
    return [
        Problem((*p.loc, "name"), p.message) for p in _duplicate_problems(names, loc, "admin user")
    ]


def _app_account_problems(app: Any, environments: Mapping[str, Any]) -> list[Problem]:
    """The app's unix user must not be an account the config names: a login or an admin user."""
    if not isinstance(app, str):
        return []
    problems = []
    for name, environment in environments.items():
        if not isinstance(environment, Mapping):
            continue
        loc: Loc = ("environments", name)
        hosts = environment.get("hosts")
        for index, entry in enumerate(hosts if isinstance(hosts, list | tuple) else ()):
            host = _raw_host(entry)
            if host is not None and host.get("user") == app:
                problems.append(
                    Problem(
                        (*loc, "hosts", index),
                        f"djops logs in as {app!r}, the app's name: the app's own unix user would "
                        "replace that login's home, shell and password and lock you out; "
                        "choose another app name or log in as another user",
                    )
                )
        users = environment.get("admin_users")
        for index, user in enumerate(users if isinstance(users, list | tuple) else ()):
            if isinstance(user, Mapping) and user.get("name") == app:
                problems.append(
                    Problem(
                        (*loc, "admin_users", index, "name"),
                        f"{app!r} is the app's name: the app's own unix user would take over this "
                        "admin's account; choose another app name or admin name",
                    )
                )
    return problems


def _cross_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    has_wsgi, has_asgi = _present(data, "wsgi"), _present(data, "asgi")
    if has_wsgi and has_asgi:
        problems.append(
            Problem(("asgi",), "wsgi and asgi are both set; keep the one your app is served by")
        )
    elif not has_wsgi and not has_asgi:
        problems.append(
            Problem(
                ("wsgi",),
                "missing; set wsgi: PROJECT.wsgi:application (or asgi: PROJECT.asgi:application "
                "for an ASGI app)",
            )
        )
    if has_asgi and not has_wsgi and data.get("appserver") == "uwsgi":
        problems.append(
            Problem(
                ("appserver",),
                "uwsgi cannot serve an ASGI app; use appserver: gunicorn (it runs uvicorn "
                "workers) or give wsgi: instead of asgi:",
            )
        )
    for key, what in (("system_packages", "package"), ("services", "service")):
        problems.extend(_duplicate_problems(data.get(key), (key,), what))
    problems.extend(_env_names_problems(data.get("env_names")))
    names = _effective_env_names(data.get("env_names"))
    problems.extend(_env_problems(data.get("env"), ("env",), names))
    services = data.get("services", ALL_SERVICES)
    if not isinstance(services, list | tuple):
        services = ()
    environments = data.get("environments")
    if isinstance(environments, Mapping):
        problems.extend(_app_account_problems(data.get("app"), environments))
        for name, environment in environments.items():
            if isinstance(environment, Mapping):
                problems.extend(
                    _environment_problems(environment, ("environments", name), names, services)
                )
    problems.extend(_env_total_problems(data))
    return problems
