"""`djops config check` and the roles agree: what the one accepts, the others accept.

Many configs go through check_config, then plan.py turns each into the inventory and variables
that `djops provision` hands over; every role that would run on each host then runs its
tasks/validate.yml with them (check mode, connection local, no sandbox host), all in one
ansible-playbook run. A few configs that check_config refuses are paired with what the roles
would get from them, to show the refusal matches the roles'.

The db and cache roles look the app hosts up from their own host (getent ahosts), so sandbox
hosts are named localhost here and real hosts are given by address: names that resolve on any
machine, as the hosts' names resolve on real servers.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from certificates import certificate_and_key
from test_role_validation import COLLECTIONS, run_validate_many
from test_role_validation import pytestmark as needs_ansible

from djops import plan
from djops.commands import _playbook
from djops.config import check_config
from djops.errors import ConfigError
from djops.sandbox import state as sandbox_state
from djops.sandbox.paths import SandboxPaths

pytestmark = needs_ansible

SSH_KEYS = Path(__file__).parent / "fixtures" / "ssh"
ED25519 = (SSH_KEYS / "ed25519.pub").read_text().strip()
ED25519_BOB = (SSH_KEYS / "ed25519_bob.pub").read_text().strip()
RSA_2048 = (SSH_KEYS / "rsa2048.pub").read_text().strip()
ECDSA = (SSH_KEYS / "ecdsa.pub").read_text().strip()
RSA_1024 = (SSH_KEYS / "rsa1024.pub").read_text().strip()

PEM_CERTIFICATE, PEM_KEY = certificate_and_key("notes.example.com")


def admins(*users: tuple[str, list[str]]) -> str:
    lines = ["admin_users:"]
    for name, keys in users:
        lines.append(f"  - name: {name}")
        lines.append("    keys:")
        lines.extend(f'      - "{key}"' for key in keys)
    return "\n".join(lines) + "\n"


def project(top: str = "", environments: str = "") -> str:
    """A config: app, settings and wsgi unless `top` replaces them, then the environments."""
    head = "app: notes\nsettings: notes.settings\nwsgi: notes.wsgi:application\n"
    text = textwrap.dedent(top) if "app:" in top else head + textwrap.dedent(top)
    return text + "environments:\n" + textwrap.indent(textwrap.dedent(environments), "  ")


SANDBOX = "hosts: [sandbox:localhost]\ndomains: [notes.test]\ntls: self-signed\n"
REAL = (
    "hosts: [deploy@203.0.113.10]\ndomains: [notes.example.com]\nacme_email: ops@example.com\n"
    + admins(("deploy", [ED25519]))
)


def env(name: str, body: str) -> str:
    return f"{name}:\n" + textwrap.indent(body, "  ")


ACCEPTED: dict[str, str] = {
    "sandbox, every service": project(environments=env("sandbox", SANDBOX)),
    "sandbox, no services": project("services: []\n", env("sandbox", SANDBOX)),
    "sandbox, postgres, asgi": project(
        "app: notes\nsettings: notes.settings\nasgi: notes.asgi:application\n"
        "services: [postgres]\n",
        env("sandbox", SANDBOX),
    ),
    "sandbox, redis, uwsgi, hooks, env": project(
        """\
        services: [redis]
        appserver: uwsgi
        env_names: {redis_url: CACHE_URL, release: GIT_SHA}
        env: {DJANGO_LOG_LEVEL: INFO, FEATURES: "a b"}
        list_separator: " "
        hooks:
          before_migrate: [./check.sh]
          after_switch:
            - {command: "python manage.py clearsessions"}
            - {tasks: deploy/hooks/after.yml}
        """,
        env("sandbox", SANDBOX + "env: {DJANGO_LOG_LEVEL: DEBUG}\n"),
    ),
    "sandbox, an admin of the sandbox's name and another": project(
        environments=env(
            "sandbox", SANDBOX + admins(("admin", [ED25519_BOB]), ("alice", [ED25519, ECDSA]))
        )
    ),
    "real host as root, acme, two admins": project(
        environments=env(
            "production",
            "hosts: [root@203.0.113.10]\ndomains: [notes.example.com, www.notes.example.com]\n"
            "acme_email: ops@example.com\n"
            + admins(("alice", [ED25519, RSA_2048]), ("bob", [ED25519_BOB])),
        )
    ),
    "real host with a port, self-signed": project(
        environments=env(
            "staging",
            "hosts: ['deploy@[2001:db8::10]:2222']\ndomains: [staging.notes.example.com]\n"
            "tls: self-signed\n" + admins(("deploy", [ED25519])),
        )
    ),
    "provided TLS": project(
        "python: '3.12'\nservices: [postgres]\n",
        env(
            "production",
            REAL.replace("acme_email: ops@example.com\n", "")
            + "tls:\n  certificate: deploy/tls/fullchain.pem\n  private_key: ~/keys/notes.key\n",
        ),
    ),
    "provided TLS, absolute paths, source given": project(
        environments=env(
            "production",
            REAL.replace("acme_email: ops@example.com\n", "")
            + "tls: {source: provided, certificate: TLSDIR/cert.pem,\n"
            + "      private_key: TLSDIR/key.pem}\n",
        ),
    ),
    "split hosts, acme staging": project(
        "app: shop_v2\nsettings: shop.settings.prod\nwsgi: shop.wsgi:application\n"
        "system_packages: [libpq-dev, gettext]\nreleases_kept: 3\nhealthcheck: /health/\n"
        "media_url: /uploads/\nmax_upload_size: 250m\n"
        "processes:\n"
        "  worker: {command: celery -A shop worker -l INFO, instances: 4, stop_timeout: 600}\n"
        "  beat: {command: [celery, -A, shop, beat], singleton: true}\n"
        "  alerts: python manage.py send_alerts --every '50%' \"--to=ops@example.com\"\n",
        env(
            "production",
            textwrap.dedent("""\
            hosts:
              - {address: 203.0.113.10, user: deploy, roles: [web]}
              - {address: 203.0.113.11, user: deploy, roles: [app]}
              - {address: 203.0.113.12, user: deploy, roles: [app]}
              - {address: 203.0.113.13, user: deploy, port: 2222, roles: [db]}
              - {address: "2001:db8::14", user: deploy, roles: [cache]}
            domains: [shop.example.com, www.shop.example.com, api.shop.example.com]
            acme_email: ops@example.com
            acme_directory: https://acme-staging-v02.api.letsencrypt.org/directory
            """)
            + admins(("deploy", [ED25519, ED25519_BOB]), ("carol", [RSA_2048])),
        ),
    ),
    "two environments, 100 names": project(
        "services: [postgres]\n",
        env("sandbox", SANDBOX)
        + env(
            "production",
            REAL.replace(
                "domains: [notes.example.com]",
                "domains: [" + ", ".join(f"n{i}.example.com" for i in range(100)) + "]",
            ),
        ),
    ),
}

# Configs check_config refuses (REAL with one text replaced), each with the role that refuses the
# variables it would give, how those differ from REAL's, and the role's words.
REFUSED: dict[str, tuple[str, str, str, Any, str]] = {
    "localhost": (
        "domains: [notes.example.com]",
        "domains: [localhost]",
        "nginx",
        lambda v: v["nginx_sites"][0].update(domains=["localhost"]),
        'nginx_sites: "localhost" is not a valid host name',
    ),
    "a single label": (
        "domains: [notes.example.com]",
        "domains: [intranet]",
        "nginx",
        lambda v: v["nginx_sites"][0].update(domains=["intranet"]),
        'nginx_sites: "intranet" is not a valid host name',
    ),
    "tls provided without files": (
        "acme_email: ops@example.com\n",
        "tls: provided\n",
        "nginx",
        lambda v: v["nginx_sites"][0].update(tls={"source": "provided"}),
        "with tls.source provided tls.certificate and tls.private_key are both needed",
    ),
    "a short RSA key": (
        ED25519,
        RSA_1024,
        "base",
        lambda v: v["base_users"][0].update(authorized_keys=[RSA_1024]),
        "RSA key shorter than 2048 bits",
    ),
    "the app as login user": (
        "deploy@203.0.113.10",
        "notes@203.0.113.10",
        "appserver",
        lambda v: v.update(ansible_user="notes"),
        "and it is the user Ansible logs in as",
    ),
}

# The roles each inventory group runs (site.yml); base runs everywhere.
GROUP_ROLES = {
    "web": ["nginx"],
    "app": ["appserver", "app"],
    "db": ["postgres"],
    "cache": ["redis"],
}
# How Ansible reaches a host: replaced by the local connection here.
CONNECTION_VARS = ("ansible_host", "ansible_port", "ansible_ssh_private_key_file",
                   "ansible_ssh_common_args", "ansible_python_interpreter")  # fmt: skip


@pytest.fixture
def sandbox_paths(tmp_path, monkeypatch):
    paths = SandboxPaths(tmp_path / "sandbox")
    sandbox_state.save(
        paths, sandbox_state.HostState(name="localhost", distro="debian-13", index=7, ready=True)
    )
    paths.ssh_key.with_suffix(".pub").write_text(ED25519 + "\n")
    monkeypatch.setattr(sandbox_state, "is_running", lambda state: True)
    return paths


def run_playbook(run: Path, playbook: str, *options: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOME": str(run / "home"),
        "ANSIBLE_LOCAL_TEMP": str(run / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
    }
    return subprocess.run(
        ["ansible-playbook", "--check", "-i", "localhost,", "-c", "local", *options,
         "-e", "ansible_python_interpreter=/usr/bin/python3", "-e", "@vars.json", playbook],
        capture_output=True, text=True, env=env, cwd=run, timeout=300, check=False,
    )  # fmt: skip


def make_project(root: Path, text: str) -> Path:
    (root / "deploy" / "hooks").mkdir(parents=True)
    (root / "deploy" / "tls").mkdir()
    (root / "deploy" / "hooks" / "after.yml").write_text("---\n")
    (root / "deploy" / "tls" / "fullchain.pem").write_text(PEM_CERTIFICATE)
    (root / "deploy" / "tls" / "cert.pem").write_text(PEM_CERTIFICATE)
    (root / "deploy" / "tls" / "key.pem").write_text(PEM_KEY)
    (root / "home" / "keys").mkdir(parents=True)
    (root / "home" / "keys" / "notes.key").write_text(PEM_KEY)
    (root / "manage.py").write_text("")
    (root / "requirements.txt").write_text("Django\n")
    (root / ".python-version").write_text("3.12\n")
    path = root / "deploy" / "djops.yml"
    path.write_text(text.replace("TLSDIR", str(root / "deploy" / "tls")))
    return path


def role_cases(
    label: str, path: Path, paths: SandboxPaths
) -> dict[str, tuple[list[str], dict[str, Any]]]:
    """One case per host of each environment: the roles it runs and the variables they get."""
    config = check_config(path)
    cases = {}
    for env_name in config.environments:
        target = _playbook.target(config, path.parents[1], env_name, paths)
        inventory = plan.inventory(target)["all"]
        variables = plan.project_vars(target)
        for host, host_vars in inventory["hosts"].items():
            roles = ["base"]
            merged = {**variables}
            for group, members in inventory["children"].items():
                if host in members["hosts"]:
                    roles += GROUP_ROLES[group]
                    merged.update(members.get("vars", {}))
            merged.update({k: v for k, v in host_vars.items() if k not in CONNECTION_VARS})
            name = f"{label}/{env_name}/{host}".replace(" ", "_").replace(",", "")
            cases[name] = (roles, merged)
    return cases


def test_the_roles_accept_every_config_check_accepts_and_refuse_what_it_refuses(
    tmp_path, sandbox_paths, monkeypatch
):
    cases: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for index, (label, text) in enumerate(ACCEPTED.items()):
        root = tmp_path / f"p{index}"
        path = make_project(root, text)
        monkeypatch.setenv("HOME", str(root / "home"))
        cases.update(role_cases(label, path, sandbox_paths))
    assert len(cases) >= 15

    refused = {}
    good = make_project(tmp_path / "good", project(environments=env("production", REAL)))
    good_cases = role_cases("good", good, sandbox_paths)
    ((_, good_vars),) = good_cases.values()
    cases.update(good_cases)
    for index, (label, (old, new, role, change, _)) in enumerate(REFUSED.items()):
        text = project(environments=env("production", REAL))
        assert old in text
        path = make_project(tmp_path / f"r{index}", text.replace(old, new))
        with pytest.raises(ConfigError):
            check_config(path)
        variables = copy.deepcopy(good_vars)
        change(variables)
        name = "refused/" + label.replace(" ", "_")
        cases[name] = ([role], variables)
        refused[name] = role

    (tmp_path / "run").mkdir()
    recap, output = run_validate_many(tmp_path / "run", cases)
    assert set(recap) == set(cases), output[-3000:]
    wrong = [
        name
        for name, counts in recap.items()
        if (counts.get("failed", 0) > 0) != (name in refused) or counts.get("unreachable", 0)
    ]
    assert wrong == [], output[-6000:]
    # Each refused for the reason check_config gives, not by accident.
    for _, _, _, _, message in REFUSED.values():
        assert message in output


def test_a_provided_certificate_reaches_certbot_and_its_key_is_never_shown(tmp_path, monkeypatch):
    # plan.py hands over a file lookup, not the key: certbot must still get the PEM text, match
    # the key to the certificate, and print neither the key nor its path's content at -vvv.
    certificate, key = certificate_and_key("notes.example.com")
    text = project(
        environments=env(
            "production",
            REAL.replace("acme_email: ops@example.com\n", "")
            + "tls: {certificate: deploy/tls/fullchain.pem, private_key: ~/keys/notes.key}\n",
        )
    )
    path = make_project(tmp_path / "p", text)
    (tmp_path / "p" / "deploy" / "tls" / "fullchain.pem").write_text(certificate)
    (tmp_path / "p" / "home" / "keys" / "notes.key").write_text(key)
    monkeypatch.setenv("HOME", str(tmp_path / "p" / "home"))
    config = check_config(path)
    variables = plan.project_vars(_playbook.target(config, tmp_path / "p", "production"))
    assert key not in str(variables)
    site = variables["nginx_sites"][0]
    run = tmp_path / "run"
    run.mkdir()
    (run / "vars.json").write_text(
        json.dumps(
            {
                **{k: v for k, v in variables.items() if k.startswith("djops_tls_")},
                "certbot_certificates": [
                    {"name": site["name"], "domains": site["domains"], **site["tls"]}
                ],
                "certbot_tls_dir": str(tmp_path / "tls"),
            }
        )
    )
    # Check mode stops short of installing; the play ends before the reload handler.
    (run / "provided.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role: {name: djops.django.certbot, tasks_from: validate}\n"
        "    - ansible.builtin.include_role: {name: djops.django.certbot, tasks_from: provided}\n"
        "    - ansible.builtin.meta: end_play\n"
    )
    result = run_playbook(run, "provided.yml", "-vvv")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Check each provided key belongs to its certificate" in result.stdout
    assert "BEGIN PRIVATE KEY" not in result.stdout + result.stderr
    assert key.splitlines()[1] not in result.stdout + result.stderr

    # A key of another certificate is refused before anything is installed.
    _, other_key = certificate_and_key("notes.example.com")
    (tmp_path / "p" / "home" / "keys" / "notes.key").write_text(other_key)
    result = run_playbook(run, "provided.yml")
    assert result.returncode != 0
    assert "the private_key of 'notes' does not belong to its certificate" in result.stdout
