"""The lookup djops.django.release_archive: a release's archive read once on the controller."""

import gzip
import hashlib
import io
import os
import tarfile

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.djops.django.plugins.lookup.release_archive import archive_facts


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = b"print('hello')\n" * 200
        info = tarfile.TarInfo("manage.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (tar_bytes(), "tar"),
        (gzip.compress(tar_bytes()), "tgz"),
        (b"PK\x03\x04 a zip archive", "other"),
        (b"", "other"),
    ],
)
def test_the_kind_comes_from_the_first_bytes_and_the_size_is_rounded_up(tmp_path, content, kind):
    path = tmp_path / "code.archive"  # the name says nothing
    path.write_bytes(content)
    facts = archive_facts(str(path))
    assert facts == {
        "sha256": hashlib.sha256(content).hexdigest(),
        "kind": kind,
        "kib": (len(content) + 1023) // 1024,
    }


def test_an_archive_larger_than_one_read_is_digested_whole(tmp_path):
    content = gzip.compress(tar_bytes()) + os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "big.tar.gz"
    path.write_bytes(content)
    facts = archive_facts(str(path))
    assert facts["sha256"] == hashlib.sha256(content).hexdigest()
    assert facts["kind"] == "tgz"
    assert facts["kib"] == 3 * 1024 + (len(content) - 3 * 1024 * 1024 + 1023) // 1024


def test_a_missing_archive_is_named(tmp_path):
    with pytest.raises(AnsibleLookupError, match=r"cannot read the archive .*missing.tgz"):
        archive_facts(str(tmp_path / "missing.tgz"))


def test_the_lookup_answers_in_a_play(tmp_path, run_task):
    path = tmp_path / "code.tar"
    path.write_bytes(tar_bytes())
    result = run_task(
        {
            "ansible.builtin.debug": {
                "msg": "{{ query('djops.django.release_archive', archive) | first }}"
            },
            "vars": {"archive": str(path)},
        }
    )
    assert result["msg"] == archive_facts(str(path))
