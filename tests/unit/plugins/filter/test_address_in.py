"""The filter djops.django.address_in."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.djops.django.plugins.filter.address_in import FilterModule, address_in


@pytest.mark.parametrize(
    ("address", "networks", "inside"),
    [
        ("198.18.4.1", ["198.18.0.0/16"], True),
        ("198.18.4.1", ["10.0.0.0/8", "198.18.4.1"], True),
        ("198.18.4.1", ["198.18.4.7/24"], True),  # host bits allowed
        ("198.18.4.1", ["10.0.0.0/8"], False),
        ("198.18.4.1", [], False),
        ("2001:db8::5", ["2001:db8::/32"], True),
        ("2001:db8::5", ["198.18.0.0/16"], False),  # another family is never a match
        (" 198.18.4.1 ", [" 198.18.4.0/24 "], True),
    ],
)
def test_address_in(address, networks, inside):
    assert address_in(address, networks) is inside


def test_what_cannot_be_read_is_named():
    with pytest.raises(AnsibleFilterError, match="'web1' is not an IP address"):
        address_in("web1", ["10.0.0.0/8"])
    with pytest.raises(AnsibleFilterError, match=r"'10\.0\.0\.0/33' is not a network"):
        address_in("10.0.0.1", ["10.0.0.0/33"])
    with pytest.raises(AnsibleFilterError, match="expected a list of networks"):
        address_in("10.0.0.1", "10.0.0.0/8")


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"address_in": address_in}
