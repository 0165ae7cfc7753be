"""The developer's config file, deploy/djops.yml: its model, loading and validation.

`load_config` reads the file and returns a `ProjectConfig`, or raises `ConfigError` listing every
problem it found, each naming the field (``environments.production.domains[0]``) and the fix, in
the order they appear in the file.

Validation happens in two passes over the same parsed YAML: pydantic checks each field on its own,
and `rules._cross_field_problems` checks the rules that tie fields together (wsgi or asgi,
acme_email when tls is acme, secrets kept out of env, …). The second pass works on the raw data so
that it can report its problems even when some field is broken; pydantic's after-validators would
not run then.

The modules, each importing only those above it in this list:

- constants: where the file lives, the roles and services, the ACME directories;
- problems: a problem's place and wording (`Problem`, `format_loc`, `_fail`);
- reserved: names that belong to the system, to PostgreSQL/Redis or to djops;
- calendar: systemd calendar expressions, for the jobs of schedule:;
- fields, network, admins: the validators of single fields, and the types that use them;
- env_rules, rules: the cross-field rules, on raw data;
- models: the pydantic models, and the config as plain data for display;
- loader: the YAML parser that remembers where each value was written;
- translate: pydantic's errors in the user's words, in the file's order;
- load: `parse_config` and `load_config`, the two passes together;
- discovery: finding the file, the repository root and the project's Python;
- project: what the config asks of the project's files and of the servers.

Names with a leading underscore are private to this package; its modules share them.
"""

from __future__ import annotations

from djops.config.constants import (
    ALL_ROLES,
    ALL_SERVICES,
    CONFIG_RELPATH,
    LETSENCRYPT_PRODUCTION,
    LETSENCRYPT_STAGING,
    SERVICE_ROLE,
    Role,
    Service,
)
from djops.config.discovery import find_config, project_root, resolve_config_path, resolve_python
from djops.config.fields import _APP_RE
from djops.config.load import load_config, parse_config
from djops.config.models import (
    AdminUser,
    Environment,
    EnvNames,
    Hook,
    HookList,
    Hooks,
    Host,
    Job,
    Process,
    ProjectConfig,
    ProvidedTls,
    TlsSetting,
    config_as_data,
)
from djops.config.network import parse_host_string
from djops.config.problems import Loc, Problem, format_loc
from djops.config.project import (
    access_problems,
    check_config,
    controller_file,
    project_problems,
    provision_problems,
)
from djops.config.reserved import (
    _MAX_ENV_TOTAL_BYTES,
    _MAX_ENV_VAR_BYTES,
    _PYTHON_ENV_ALLOWED,
    _RESERVED_APP_NAMES,
    _RESERVED_ENV_NAMES,
    _RESERVED_ENV_PREFIXES,
)

# What other modules and the tests import from djops.config. The underscored names are the
# lists of reserved names that tests compare with the roles' own lists.
__all__ = [
    "ALL_ROLES",
    "ALL_SERVICES",
    "CONFIG_RELPATH",
    "LETSENCRYPT_PRODUCTION",
    "LETSENCRYPT_STAGING",
    "SERVICE_ROLE",
    "_APP_RE",
    "_MAX_ENV_TOTAL_BYTES",
    "_MAX_ENV_VAR_BYTES",
    "_PYTHON_ENV_ALLOWED",
    "_RESERVED_APP_NAMES",
    "_RESERVED_ENV_NAMES",
    "_RESERVED_ENV_PREFIXES",
    "AdminUser",
    "EnvNames",
    "Environment",
    "Hook",
    "HookList",
    "Hooks",
    "Host",
    "Job",
    "Loc",
    "Problem",
    "Process",
    "ProjectConfig",
    "ProvidedTls",
    "Role",
    "Service",
    "TlsSetting",
    "access_problems",
    "check_config",
    "config_as_data",
    "controller_file",
    "find_config",
    "format_loc",
    "load_config",
    "parse_config",
    "parse_host_string",
    "project_problems",
    "project_root",
    "provision_problems",
    "resolve_config_path",
    "resolve_python",
]
