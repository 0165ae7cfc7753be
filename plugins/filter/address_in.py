# Copyright: djops maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter djops.django.address_in: whether an IP address is in any of some networks.

The base role uses it to refuse a firewall that would shut out the address Ansible connects
from. The documentation is in address_in.yml.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from ansible.errors import AnsibleFilterError


def address_in(address: Any, networks: Sequence[Any]) -> bool:
    """Whether ``address`` is in one of ``networks`` (addresses or networks, host bits allowed)."""
    try:
        found = ipaddress.ip_address(str(address).strip())
    except ValueError as error:
        raise AnsibleFilterError(f"address_in: {address!r} is not an IP address") from error
    if isinstance(networks, (str, bytes)) or not isinstance(networks, Sequence):
        raise AnsibleFilterError(f"address_in: expected a list of networks, got {networks!r}")
    for network in networks:
        try:
            parsed = ipaddress.ip_network(str(network).strip(), strict=False)
        except ValueError as error:
            raise AnsibleFilterError(f"address_in: {network!r} is not a network") from error
        if found in parsed:
            return True
    return False


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"address_in": address_in}
