"""Copy one regular file out of the release's archive, on the controller.

Usage: python3 archive_member.py ARCHIVE MEMBER DEST
The task files of `tasks:` hooks are included as root: they are read from the archive the deploy
was given, never from the release on the host, which third-party code could change while it was
built. MEMBER is relative to the archive's root (`./` prefixes are the same name); it must be a
regular file, not a link. Exit 2 with one line on stderr when it is not in the archive as one.
"""

import shutil
import sys
import tarfile
import zipfile
from pathlib import PurePosixPath


def normal(name: str) -> str:
    return str(PurePosixPath(name.lstrip("/")))


def main(archive: str, member: str, dest: str) -> int:
    wanted = normal(member)
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            for info in tar:
                if normal(info.name) == wanted:
                    if not info.isreg():
                        break
                    with tar.extractfile(info) as source, open(dest, "wb") as target:
                        shutil.copyfileobj(source, target)
                    return 0
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                # A zip entry whose mode says link is not a regular file either.
                is_link = (info.external_attr >> 28) == 0xA
                if normal(info.filename) == wanted and not info.is_dir() and not is_link:
                    with zipped.open(info) as source, open(dest, "wb") as target:
                        shutil.copyfileobj(source, target)
                    return 0
    print(f"{member} is not a file in the archive", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
