"""Turn deploy/djops.yml and an environment into what the playbooks take.

The inventory puts each host in the groups of its roles (web, app, db, cache), as a sysadmin
would write it for `ansible-playbook site.yml`; the project is handed over as one variable,
`djops_project`, which the playbooks map onto the roles' own variables.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from djops.config import (
    ALL_ROLES,
    SERVICE_ROLE,
    Environment,
    ProjectConfig,
    ProvidedTls,
    controller_file,
)
from djops.sandbox import ca as sandbox_ca
from djops.sandbox import inventory as sandbox_inventory
from djops.sandbox.paths import SandboxPaths
from djops.sandbox.state import HostState

SERVICE_OF_GROUP = {role: service for service, role in SERVICE_ROLE.items()}
# deploy/djops.yml's tls: → the nginx role's tls.source
TLS_SOURCES = {"acme": "acme", "self-signed": "self_signed", "provided": "provided"}


@dataclass(frozen=True)
class Target:
    """What a run is about, resolved once: the project, one of its environments, the Python
    its releases run on, and the state of the environment's sandbox hosts (each one up)."""

    config: ProjectConfig
    env_name: str
    env: Environment
    root: Path  # the project's root, which the config's paths are relative to
    python: str
    sandboxes: dict[str, HostState] = field(default_factory=dict)
    paths: SandboxPaths = field(default_factory=SandboxPaths.from_env)


def inventory(target: Target) -> dict:
    config, env, paths = target.config, target.env, target.paths
    all_hosts: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, Any]] = {g: {"hosts": {}} for g in ALL_ROLES}
    later_app_hosts = [h.name for h in env.hosts_with("app")][1:]
    for host in env.hosts:
        if host.is_sandbox:
            state = target.sandboxes[host.sandbox]
            host_vars = sandbox_inventory.host_vars(paths, state)
            # Hardening keeps the sandbox's admin user, with the key it logs in with.
            sandbox_key = paths.ssh_key.with_suffix(".pub").read_text().strip()
            host_vars["base_users"] = admin_users(env, state.user, sandbox_key)
        else:
            host_vars = {"ansible_host": host.address}
            if host.user:
                host_vars["ansible_user"] = host.user
            if host.port:
                host_vars["ansible_port"] = host.port
            if env.admin_users:
                host_vars["base_users"] = admin_users(env)
        if host.name in later_app_hosts:
            # The processes marked singleton (a scheduler) run on the first app host only.
            host_vars["appserver_singletons"] = False
        all_hosts[host.name] = host_vars
        for role in host.roles:
            # A host is a db or cache host only for a project that uses that service: without
            # it, PostgreSQL or Redis is neither installed nor wired into the app.
            if SERVICE_OF_GROUP.get(role, "") not in ("", *config.services):
                continue
            groups[role]["hosts"][host.name] = {}
    # Only the web hosts open 80 and 443.
    groups["web"]["vars"] = {"base_firewall_web": True}
    return {"all": {"hosts": all_hosts, "children": groups}}


def admin_users(
    env: Environment, login_user: str | None = None, login_key: str | None = None
) -> list[dict[str, Any]]:
    """admin_users: as the base role's base_users: sudo users that log in with their keys.

    A sandbox host's own login user (with the key djops logs in with) comes first, merged with
    an admin user of the same name.
    """
    users = [
        {"name": user.name, "authorized_keys": list(user.keys), "sudo": True}
        for user in env.admin_users
    ]
    if login_user is None:
        return users
    login = next((u for u in users if u["name"] == login_user), None)
    if login is None:
        return [{"name": login_user, "authorized_keys": [login_key], "sudo": True}, *users]
    if login_key not in login["authorized_keys"]:
        login["authorized_keys"].insert(0, login_key)
    return [login, *(u for u in users if u is not login)]


def tls_settings(env: Environment, project_root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The nginx site's tls: and the variables it refers to.

    A provided certificate and key are read on the controller by Ansible when the role needs
    them (a file lookup): the key is never written into the variables djops hands over.
    """
    if not isinstance(env.tls, ProvidedTls):
        return {"source": TLS_SOURCES[env.tls]}, {}
    files = {
        "djops_tls_certificate_file": str(controller_file(project_root, env.tls.certificate)),
        "djops_tls_private_key_file": str(controller_file(project_root, env.tls.private_key)),
    }
    tls = {
        "source": "provided",
        "certificate": "{{ lookup('ansible.builtin.file', djops_tls_certificate_file) }}",
        "private_key": "{{ lookup('ansible.builtin.file', djops_tls_private_key_file) }}",
    }
    return tls, files


def project_vars(target: Target) -> dict[str, Any]:
    """The roles' own variables for this project and environment.

    They are the variables a sysadmin would write in group_vars; secrets are not among them
    (they are made on the servers, or come from Ansible Vault).
    """
    config, env, env_name = target.config, target.env, target.env_name
    kind, entry_point = config.entry_point
    app = config.app
    app_hosts = [h.name for h in env.hosts_with("app")]
    tls, tls_files = tls_settings(env, target.root)
    variables: dict[str, Any] = {
        "djops_app": app,
        "djops_environment": env_name,
        # appserver
        "appserver_app": app,
        "appserver_kind": config.appserver,
        f"appserver_{kind}": entry_point,
        "appserver_project_dir": config.project_dir,
        "appserver_release_env_name": config.env_names.release,
        "appserver_processes": role_processes(config),
        "appserver_schedule": role_schedule(config),
        # app
        "app_name": app,
        "app_settings": config.settings,
        "app_domains": list(env.domains),
        "app_project_dir": config.project_dir,
        "app_requirements": config.requirements,
        "app_python": target.python,
        "app_system_packages": list(config.system_packages),
        "app_appserver": config.appserver,
        "app_healthcheck": config.healthcheck,
        "app_check_static": config.checks.static,
        "app_check_cache": config.checks.cache,
        "app_check_address": config.checks.address,
        "app_releases_kept": config.releases_kept,
        "app_env_names": config.env_names.model_dump(),
        "app_list_separator": config.list_separator,
        "app_env": config.env_for(env_name),
        "app_hooks": role_hooks(config),
        # What the host must have been provisioned for (with the app server and the domains):
        # deploy and rollback stop, naming the change, when the config asks for something else.
        "app_provisioned_for": {
            "services": sorted(config.services),
            "tls": tls["source"],
            "processes": processes_record(config),
            "schedule": schedule_record(config),
        },
        "app_provision_hint": f"run `djops provision {env_name}` first",
        # the web front (base_firewall_web is a group var of web: extra vars would override it)
        "nginx_sites": [
            {
                "name": app,
                "domains": list(env.domains),
                "socket": f"/run/djops-{app}.sock",
                "static_root": f"/srv/{app}/current/static",
                # 503 with Retry-After until the first release, not the app's socket.
                "release_path": f"/srv/{app}/current",
                "media_root": f"/srv/{app}/shared/media",
                "media_url": config.media_url,
                "client_max_body_size": config.max_upload_size,
                "tls": tls,
            }
        ],
        **tls_files,
        "certbot_acme_directory": env.acme_directory,
        "certbot_acme_email": env.acme_email or "",
        # Each project provisions only its own app, and other projects may share these hosts:
        # the roles keep the sites, databases and cache users they are not told about. Set even
        # without the service, since the host may still be in the db or cache group.
        "nginx_sites_exclusive": False,
        "postgres_apps_exclusive": False,
        "redis_apps_exclusive": False,
    }
    web_hosts = env.hosts_with("web")
    if env.tls == "self-signed" and web_hosts and all(h.is_sandbox for h in web_hosts):
        # Sandbox sites are signed by the sandbox CA on this machine, which clients can trust.
        variables["certbot_self_signed_ca_path"] = str(sandbox_ca.ensure(target.paths))
        variables["certbot_self_signed_ca_key_path"] = str(target.paths.ca_key)
    if "postgres" in config.services:
        variables["postgres_apps"] = [{"name": app, "app_hosts": app_hosts}]
    if "redis" in config.services:
        variables["redis_apps"] = [{"name": app, "app_hosts": app_hosts}]
    return variables


def role_hooks(config: ProjectConfig) -> dict[str, list[str | dict[str, str]]]:
    """hooks: as the app role's app_hooks: a command as its string, a task file as {tasks: PATH}.

    Only the stages that have hooks are given.
    """
    return {
        stage: [
            hook.command if hook.command is not None else {"tasks": str(hook.tasks)}
            for hook in hooks
        ]
        for stage, hooks in config.hooks
        if hooks
    }


def role_processes(config: ProjectConfig) -> list[dict[str, Any]]:
    """processes: as the appserver role's appserver_processes, in the order of the file."""
    return [
        {
            "name": name,
            "command": list(process.command),
            "instances": process.instances,
            "stop_timeout": process.stop_timeout,
            "singleton": process.singleton,
        }
        for name, process in config.processes.items()
    ]


def role_schedule(config: ProjectConfig) -> list[dict[str, Any]]:
    """schedule: as the appserver role's appserver_schedule, in the order of the file."""
    return [
        {
            "name": name,
            "command": list(job.command),
            "calendar": job.calendar,
            "timeout": job.timeout,
        }
        for name, job in config.schedule.items()
    ]


def schedule_record(config: ProjectConfig) -> list[str]:
    """The scheduled jobs as the host records them when provisioned (see processes_record)."""
    return [
        f"{name}: {shlex.join(job.command)} (calendar {job.calendar}, timeout {job.timeout})"
        for name, job in sorted(config.schedule.items())
    ]


def processes_record(config: ProjectConfig) -> list[str]:
    """The processes as the host records them when provisioned, one line each.

    A deploy compares them with the config's: the units of a process are installed by
    provisioning, so a changed one asks for `djops provision` first, naming the change.
    """
    return [
        f"{name}: {shlex.join(process.command)} (instances {process.instances}, stop_timeout "
        f"{process.stop_timeout}{', singleton' if process.singleton else ''})"
        for name, process in sorted(config.processes.items())
    ]
