# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What dpkg says about packages: one dpkg-query for any number of names.

Shared by the action djops.django.apt_present (which runs the query as a shell command) and the
module djops.django.host_state_info (which runs it as an argument list).
"""

from __future__ import annotations

# One line per package dpkg knows: "<status> <package>", the package with ":<arch>" when it is
# installed for several architectures (libc6:amd64).
QUERY_FORMAT = "${db:Status-Status} ${binary:Package}\n"


def query_argv(names: list[str]) -> list[str]:
    """The dpkg-query command, as an argument list, that reports on ``names``.

    dpkg-query exits 1 when a name matches no package it knows; its other lines still count.
    """
    return ["dpkg-query", "-W", f"-f={QUERY_FORMAT}", "--", *names]


def statuses(stdout: str) -> dict[str, str]:
    """Each package's status (installed, config-files, half-installed…) from the query's output.

    A package is listed both with and without its architecture; when one architecture of it is
    installed, it counts as installed.
    """
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        status, _sep, package = line.strip().partition(" ")
        if not package:
            continue
        for name in (package, package.split(":", 1)[0]):
            if found.get(name) != "installed":
                found[name] = status
    return found
