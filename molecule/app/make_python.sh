#!/bin/sh
# Makes a python-build-standalone-like CPython for verify_python.yml: from a CPython installed under
# PREFIX on this machine (a pyenv build), a relocatable tarball in the install_only layout (top
# directory python/) and the downloads JSON uv reads through UV_PYTHON_DOWNLOADS_JSON_URL (the
# format of uv-python's download-metadata.json), naming the tarball at BASE_URL with its SHA-256.
# The build links its extension modules against the distro's libraries (libssl, libsqlite3 …).
# Usage: make_python.sh PREFIX OUTDIR BASE_URL
set -eu
command -v patchelf >/dev/null || { echo "make_python.sh: patchelf is missing (apt-get install patchelf)" >&2; exit 1; }
prefix=$1
out=$2
base_url=$3
exe=
for candidate in "$prefix"/bin/python3.[0-9] "$prefix"/bin/python3.[0-9][0-9]; do
    if [ -x "$candidate" ]; then exe=${candidate##*/}; fi
done
[ -n "$exe" ] || { echo "make_python.sh: no python3.X in $prefix/bin" >&2; exit 1; }
version=$("$prefix/bin/$exe" -c 'import platform; print(platform.python_version())')
minor=${exe#python}
major=${minor%%.*}
minor=${minor#*.}
patch=${version##*.}
name=cpython-$version-djops-x86_64-unknown-linux-gnu-install_only.tar.gz
tree=$out/tree/python
lib=$tree/lib/$exe

rm -rf "$out"
mkdir -p "$tree/bin" "$tree/lib" "$tree/include"
cp -a "$prefix/bin/$exe" "$tree/bin/"
ln -s "$exe" "$tree/bin/python3"
ln -s "$exe" "$tree/bin/python"
cp -a "$prefix"/lib/libpython3* "$tree/lib/"
cp -a "$prefix/include/$exe" "$tree/include/"
# The standard library without its test suites, Tk, IDLE, bytecode, the static libpython and pip.
tar -C "$prefix/lib" -cf - \
    --exclude="$exe/test" --exclude="$exe/idlelib" --exclude="$exe/tkinter" \
    --exclude="$exe/turtledemo" --exclude='*/__pycache__' --exclude='*/_tkinter.*' \
    --exclude='*/unittest/test' --exclude='*/libpython*.a' --exclude="$exe/site-packages/*" \
    "$exe" | tar -C "$tree/lib" -xf -
# pyenv's build carries an absolute RUNPATH to its prefix: make it find libpython beside itself,
# and drop the debugging symbols (like python-build-standalone's install_only_stripped).
# shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader, not the shell
patchelf --set-rpath '$ORIGIN/../lib' "$tree/bin/$exe"
for so in "$tree"/lib/libpython3*.so.* "$lib"/lib-dynload/*.so; do
    patchelf --remove-rpath "$so"
    strip --strip-debug "$so"
done
chmod -R u=rwX,go=rX "$tree"

tar -C "$out/tree" --owner=0 --group=0 -czf "$out/$name" python
sha256=$(sha256sum "$out/$name" | cut -d' ' -f1)
cat > "$out/downloads.json" <<JSON
{
  "cpython-$version-linux-x86_64-gnu": {
    "name": "cpython",
    "arch": {"family": "x86_64", "variant": null},
    "os": "linux",
    "libc": "gnu",
    "major": $major,
    "minor": $minor,
    "patch": $patch,
    "prerelease": "",
    "url": "$base_url/$name",
    "sha256": "$sha256",
    "variant": null
  }
}
JSON
rm -rf "$out/tree"
echo "$out/$name"
