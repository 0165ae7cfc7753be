"""Turn deploy/djops.yml and an environment into what the playbooks take.

The inventory puts each host in the groups of its roles (web, app, db, cache), as a sysadmin
would write it for `ansible-playbook site.yml`; the project is handed over as one variable,
`djops_project`, which the playbooks map onto the roles' own variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from djops.config import ProjectConfig, resolve_python
from djops.errors import UsageError
from djops.sandbox import hosts as sandbox_hosts
from djops.sandbox import inventory as sandbox_inventory
from djops.sandbox.paths import SandboxPaths

GROUPS = ("web", "app", "db", "cache")


def inventory(config: ProjectConfig, env_name: str, paths: SandboxPaths | None = None) -> dict:
    env = config.environment(env_name)
    paths = paths or SandboxPaths.from_env()
    all_hosts: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, Any]] = {g: {"hosts": {}} for g in GROUPS}
    for host in env.hosts:
        if host.is_sandbox:
            state = sandbox_hosts.load(paths, host.sandbox)
            if state is None or not sandbox_hosts.is_running(state):
                raise UsageError(
                    f"environments.{env_name}.hosts: sandbox host {host.sandbox} is not up "
                    f"(start it with: djops sandbox up {host.sandbox})"
                )
            host_vars = sandbox_inventory.host_vars(paths, state)
        else:
            host_vars = {"ansible_host": host.address}
            if host.user:
                host_vars["ansible_user"] = host.user
            if host.port:
                host_vars["ansible_port"] = host.port
        all_hosts[host.name] = host_vars
        for role in host.roles:
            groups[role]["hosts"][host.name] = {}
    return {"all": {"hosts": all_hosts, "children": groups}}


def project_vars(config: ProjectConfig, env_name: str, project_root: Path) -> dict[str, Any]:
    """The project as the playbooks see it (no secrets: those are made on the server)."""
    env = config.environment(env_name)
    kind, entry_point = config.entry_point
    return {
        "djops_project": {
            "app": config.app,
            "environment": env_name,
            "settings": config.settings,
            "entry_point_kind": kind,
            "entry_point": entry_point,
            "python": resolve_python(config, project_root),
            "project_dir": config.project_dir,
            "requirements": config.requirements,
            "system_packages": list(config.system_packages),
            "appserver": config.appserver,
            "services": list(config.services),
            "healthcheck": config.healthcheck,
            "releases_kept": config.releases_kept,
            "env_names": config.env_names.model_dump(),
            "list_separator": config.list_separator,
            "env": config.env_for(env_name),
            "domains": list(env.domains),
            "tls": env.tls,
            "acme_email": env.acme_email,
            "acme_directory": env.acme_directory,
        }
    }
