"""Validators of where the servers are: host names, domains, addresses and ports, and the
short host form ``[user@]host[:port]``; and of the ACME e-mail address and directory URL.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, StrictInt

from djops.config.constants import LETSENCRYPT_PRODUCTION
from djops.config.fields import _SANDBOX_NAME, _UNIX_USER_NAME
from djops.config.problems import _clip, _fail

_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _host_name_problem(value: str, *, lowercase: bool) -> str | None:
    """Why `value` is not an RFC 1123 host name, or None when it is one."""
    generic = (
        f"{value!r} is not a valid host name "
        "(use letters, digits and hyphens, labels separated by dots)"
    )
    if not value:
        return "is empty"
    if "://" in value:
        host = urlsplit(value).hostname or ""
        return f"{value!r}: give the host name only, without the scheme: {host!r}"
    if value.startswith("*"):
        return (
            f"{value!r}: wildcard names are not supported (certificates are issued per name); "
            "list each name"
        )
    if value.endswith("."):
        return f"{value!r}: drop the trailing dot: {value.rstrip('.')!r}"
    if "/" in value:
        return f"{value!r}: give the host name only, without a path"
    if re.fullmatch(r"[^:]+:\d+", value):
        return f"{value!r}: give the host name only, without a port"
    if not value.isascii():
        try:
            encoded = value.encode("idna").decode("ascii")
        except UnicodeError:
            return generic
        return f"{value!r}: write the name in its ASCII (punycode) form: {encoded!r}"
    if (
        lowercase
        and value != value.lower()
        and _host_name_problem(value.lower(), lowercase=True) is None
    ):
        return f"{value!r}: write it in lowercase: {value.lower()!r}"
    if len(value) > 253:
        return f"{value[:20]!r}…: a host name has at most 253 characters"
    for label in value.lower().split("."):
        if len(label) > 63:
            return f"{value!r}: the label {label[:20]!r}… is longer than 63 characters"
        if label.startswith("-") or label.endswith("-"):
            if re.fullmatch(r"[a-z0-9-]+", label):
                return f"{value!r}: a label cannot start or end with a hyphen ({label!r})"
            return generic
        if not _LABEL_RE.fullmatch(label):
            return generic
    return None


def _check_domain(value: str) -> str:
    if _is_ip(value):
        _fail(f"{value!r} is an IP address; domains must be DNS names (hosts go under hosts:)")
    problem = _host_name_problem(value, lowercase=True)
    if problem:
        _fail(problem)
    if value == "localhost" or value.endswith(".localhost"):
        _fail(
            f"{value!r}: localhost names always mean the visitor's own machine (RFC 6761) and "
            "cannot get a certificate; give the name the server is reached by"
        )
    if "." not in value:
        _fail(
            f"{value!r} is a single label; give a fully qualified name such as "
            f"'{value}.example.com' (certificates and nginx need a dotted name)"
        )
    if not value.rsplit(".", 1)[1][0].isalpha():
        _fail(f"{value!r}: the last label (the top-level domain) must start with a letter")
    return value


def _scope_id_problem(address: str) -> str | None:
    # Python reads fe80::1%eth0 as an address; Ansible and ssh would pass the scope id on, and
    # shell text after the % (fe80::1%$(id)) with it.
    if "%" in address and _is_ip(address.partition("%")[0]):
        return (
            f"{_clip(repr(address))}: addresses with a scope id (%…) are not supported; give a "
            "global address or a host name"
        )
    return None


def _check_address(value: str) -> str:
    scoped = _scope_id_problem(value.strip("[]"))
    if scoped:
        _fail(scoped)
    if _is_ip(value):
        return value
    if value.startswith("[") and value.endswith("]") and _is_ip(value[1:-1]):
        _fail(f"{value!r}: write the address without brackets: {value[1:-1]!r}")
    if "@" in value:
        _fail(f"{value!r}: put the user in user:, not in address:")
    problem = _host_name_problem(value, lowercase=False)
    if problem:
        _fail(problem.replace("not a valid host name", "not a valid host name or IP address"))
    return value


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        _fail(f"{value} is not a port number; use 1-65535 (SSH is usually 22)")
    return value


def _check_email(value: str) -> str:
    if value.lower().startswith("mailto:"):
        _fail(f"{value!r}: give the address only: {value[7:]!r}")
    local, at, domain = value.rpartition("@")
    if (
        not at
        or not _EMAIL_LOCAL_RE.fullmatch(local)
        or "." not in domain
        or _host_name_problem(domain.lower(), lowercase=True) is not None
    ):
        _fail(
            f"{value!r} is not a plausible e-mail address (like ops@example.com); "
            "the ACME server sends certificate notices to it"
        )
    return value


def _check_https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "http":
        _fail(f"{value!r}: ACME directories are served over HTTPS; use https://")
    if parts.scheme != "https" or not parts.hostname or re.search(r"\s", value):
        _fail(f"{value!r} is not an https:// URL, e.g. {LETSENCRYPT_PRODUCTION!r}")
    return value


DomainName = Annotated[str, AfterValidator(_check_domain)]
Address = Annotated[str, AfterValidator(_check_address)]
Port = Annotated[StrictInt, AfterValidator(_check_port)]
Email = Annotated[str, AfterValidator(_check_email)]
HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]


def parse_host_string(text: str) -> dict[str, Any]:
    """Split ``sandbox:NAME`` or ``[user@]host[:port]`` into Host fields; ValueError if malformed.

    IPv6 addresses with a port are written in brackets: ``deploy@[2001:db8::1]:2222``.
    """
    usage = "write [user@]host[:port], sandbox:NAME, or a mapping with address:"
    value = text.strip()
    if not value:
        raise ValueError(f"is empty; {usage}")
    if value.startswith("sandbox:"):
        name = value.removeprefix("sandbox:")
        problem = _SANDBOX_NAME.problem(name)
        if problem:
            raise ValueError(f"{text!r}: {problem}")
        return {"sandbox": name}
    if "://" in value:
        raise ValueError(f"{text!r}: {usage} (no scheme)")
    result: dict[str, Any] = {}
    if "@" in value:
        user, _, value = value.partition("@")
        problem = _UNIX_USER_NAME.problem(user)
        if problem:
            raise ValueError(f"{text!r}: {problem}")
        result["user"] = user
    port_text = None
    scoped = _scope_id_problem(value.partition("]")[0].lstrip("["))
    if scoped:
        raise ValueError(f"{_clip(repr(text))}: {scoped}")
    if value.startswith("["):
        address, bracket, rest = value[1:].partition("]")
        if not bracket or not _is_ip(address) or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: write an IPv6 address with a port as [2001:db8::1]:22")
        port_text = rest[1:] if rest else None
    elif _is_ip(value):
        address = value
    elif value.count(":") == 1:
        address, _, port_text = value.partition(":")
    elif ":" in value:
        raise ValueError(f"{text!r}: write an IPv6 address with a port as [2001:db8::1]:22")
    else:
        address = value
    if not address:
        raise ValueError(f"{text!r}: no host name; {usage}")
    if port_text is not None:
        if not port_text:
            raise ValueError(f"{text!r}: no port after ':'; drop the ':' or give a port")
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{text!r}: the port {port_text!r} is not a number from 1 to 65535")
        result["port"] = int(port_text)
    if not _is_ip(address):
        problem = _host_name_problem(address, lowercase=False)
        if problem:
            raise ValueError(
                f"{text!r}: {address!r} is not a valid host name or IP address; {usage}"
            )
    result["address"] = address
    return result
