"""The base role's comparisons of what it wants with the host's state (filter/host_changes.py)."""

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.djops.django.plugins.filter.host_changes import (
    FilterModule,
    edit_lines,
    file_differs,
    users_keys_to_update,
    users_to_update,
)

BANNER = "Authorized use only.\n"
SAME = {
    "sha1": hashlib.sha1(BANNER.encode()).hexdigest(),  # noqa: S324
    "mode": "0644",
    "owner": "root",
    "group": "root",
}


def test_every_filter_is_registered():
    assert set(FilterModule().filters()) == {
        "file_differs",
        "edit_lines",
        "users_to_update",
        "users_keys_to_update",
    }


def test_a_file_as_it_should_be_does_not_differ():
    assert file_differs(SAME, BANNER, "0644") is False


@pytest.mark.parametrize(
    "change",
    [{"sha1": "0" * 40}, {"mode": "0664"}, {"owner": "deploy"}, {"group": "adm"}],
)
def test_a_file_differs_in_content_mode_owner_or_group(change):
    assert file_differs({**SAME, **change}, BANNER, "0644") is True


def test_a_missing_file_differs_and_a_wrong_state_is_refused():
    assert file_differs(None, BANNER, "0644") is True
    with pytest.raises(AnsibleFilterError, match="expected a file's state"):
        file_differs("0644", BANNER, "0644")


LOGROTATE = "# see man logrotate\nweekly\nrotate 4\n#compress\ninclude /etc/logrotate.d\n"


def test_edit_lines_replaces_matching_lines_and_appends_the_others():
    lines = [
        ["^(daily|weekly|monthly|yearly)[ \t]*$", "daily"],
        ["^rotate[ \t].*$", "rotate 14"],
        ["^#?[ \t]*compress[ \t]*$", "compress"],
        ["^dateext$", "dateext"],
    ]
    assert edit_lines(LOGROTATE, lines) == (
        "# see man logrotate\ndaily\nrotate 14\ncompress\ninclude /etc/logrotate.d\ndateext\n"
    )


def test_edit_lines_changes_nothing_when_the_lines_are_set():
    assert edit_lines(LOGROTATE, [["^rotate[ \t].*$", "rotate 4"]]) == LOGROTATE


def test_edit_lines_takes_the_line_literally_and_appends_to_text_without_a_final_newline():
    assert edit_lines("UMASK 022", [["^UMASK.*$", r"UMASK\t027 \1"]]) == "UMASK\\t027 \\1"
    assert edit_lines("A 1", [["^B .*$", "B 2"]]) == "A 1\nB 2\n"
    assert edit_lines("", [["^B .*$", "B 2"]]) == "B 2\n"


def test_edit_lines_names_a_bad_pattern():
    with pytest.raises(AnsibleFilterError, match="is not a regular expression"):
        edit_lines(LOGROTATE, [["^(rotate", "rotate 4"]])
    with pytest.raises(AnsibleFilterError, match=r"expected \[pattern, line\] pairs"):
        edit_lines(LOGROTATE, [["^rotate"]])


DEPLOY = {
    "name": "deploy",
    "shell": "/bin/bash",
    "comment": "",
    "authorized_keys": ["ssh-ed25519 AAAA a"],
}
ACCOUNT = {
    "shell": "/bin/bash",
    "group": "deploy",
    "gecos": "",
    "groups": ["sshusers", "adm"],
    "authorized_keys": ["ssh-ed25519 AAAA a"],
}


def test_a_user_as_it_should_be_is_left_alone():
    assert users_to_update([DEPLOY], {"deploy": ACCOUNT}, {"deploy": ["sshusers"]}) == []


@pytest.mark.parametrize(
    ("user", "account"),
    [
        (DEPLOY, None),
        ({**DEPLOY, "shell": "/bin/sh"}, ACCOUNT),
        (DEPLOY, {**ACCOUNT, "group": "users"}),
        ({**DEPLOY, "comment": "Deployer"}, ACCOUNT),
        (DEPLOY, {**ACCOUNT, "groups": ["adm"]}),
    ],
)
def test_a_missing_or_different_account_is_updated(user, account):
    state = {} if account is None else {"deploy": account}
    assert users_to_update([user], state, {"deploy": ["sshusers"]}) == [user]


def test_keys_are_written_when_one_is_missing_or_another_is_there_and_they_are_exclusive():
    assert users_keys_to_update([DEPLOY], {"deploy": ACCOUNT}) == []
    # Whitespace around a key does not count.
    assert (
        users_keys_to_update(
            [{**DEPLOY, "authorized_keys": [" ssh-ed25519 AAAA a \n"]}], {"deploy": ACCOUNT}
        )
        == []
    )
    second = {**DEPLOY, "authorized_keys": ["ssh-ed25519 AAAA a", "ssh-ed25519 BBBB b"]}
    assert users_keys_to_update([second], {"deploy": ACCOUNT}) == [second]
    other = {**ACCOUNT, "authorized_keys": ["ssh-ed25519 AAAA a", "ssh-rsa CCCC c"]}
    assert users_keys_to_update([DEPLOY], {"deploy": other}) == []
    exclusive = {**DEPLOY, "authorized_keys_exclusive": True}
    assert users_keys_to_update([exclusive], {"deploy": other}) == [exclusive]
    # A user without keys is not asked about; a new user with keys is.
    assert users_keys_to_update([{**DEPLOY, "authorized_keys": []}], {}) == []
    assert users_keys_to_update([DEPLOY], {}) == [DEPLOY]
