# shellcheck shell=sh
# Builds the venv of a release, for tasks/build.yml (sh -c, as root).
# Usage: sh -c "$(cat venv-build.sh)" sh RELEASE_DIR PYTHON REQUIREMENTS SERVER REUSE EXTRA UV MANAGE
#          RELEASE_ID BUILD_USER BUILD_HOME INSTALL_SCRIPT [EARLIER_RELEASE_DIR...]
# As root, only what must not be left to the build's code: finding (or downloading) the Python,
# shared by every app, and copying the venv of an earlier release built from the same
# inputs. The install itself, where the requirements' build backends run, runs INSTALL_SCRIPT as
# the app's build user in its sandbox (MANAGE --build), with its own uv cache in BUILD_HOME.
# Nothing here follows what the build user may have left in the release (before_build hooks run
# as it): files of the release are read as that user, and paths root writes are removed first.
# Exit 3: uv has no Python that satisfies PYTHON.
set -eu
release=$1 python=$2 requirements=$3 server=$4 reuse=$5 extra=$6 uv=$7 manage=$8 id=$9
build_user=${10} build_home=${11} install=${12}
shift 12
# With the groups it has in its sandbox: the app's group among them, through which alone it
# reaches the app's directory, and so the release.
as_build_user() {
  setpriv --reuid="$build_user" --regid="$build_user" --init-groups -- "$@"
}
project=$(dirname "$release/$requirements")
# Not `python install --quiet`: that silences why a download failed too.
interpreter=$("$uv" python find "$python" 2>/dev/null) \
  || { [ "$UV_PYTHON_DOWNLOADS" != never ] && "$uv" python install --no-bin "$python" >&2 \
       && interpreter=$("$uv" python find "$python"); } || exit 3
# uv unpacks a Python it downloads under the server's umask (027 with djops.django.base):
# open it for reading, so the app's users can run the venv.
prefix=$(readlink -f "$interpreter")
prefix=${prefix%/bin/*}
case $prefix in "$UV_PYTHON_INSTALL_DIR"/?*) chmod -R go+rX -- "$prefix" ;; esac
# Each input read on its own, not inside the pipeline to sha256sum, whose status is cut's: a file
# the build user cannot read stops the build, instead of keying the venv on nothing (the key
# every such release would share, and reuse across Pythons).
read_input() {
  as_build_user cat -- "$1" \
    || { echo "venv-build: $build_user cannot read $1: the venv's key needs it" >&2; exit 1; }
}
requirements_text=$(read_input "$release/$requirements")
lock_text=
if as_build_user test -f "$project/uv.lock"; then lock_text=$(read_input "$project/uv.lock"); fi
key=$(printf '%s\n' "$requirements_text" "$lock_text" "$(readlink -f "$interpreter")" "$server $extra" \
        | sha256sum | cut -d' ' -f1)
rm -rf -- "$release/.venv" "$release/.djops-venv-key"
if [ "$reuse" = true ]; then
  for earlier in "$@"; do
    if [ -f "$earlier/.djops-built" ] && [ "$(cat "$earlier/.djops-venv-key" 2>/dev/null)" = "$key" ]; then
      cp -a "$earlier/.venv" "$release/.venv"
      echo "$key" > "$release/.djops-venv-key"
      echo "reused the venv of $earlier"
      exit 0
    fi
  done
fi
# uv copies from the build user's cache: hard links would tie the cache's files to the release,
# which becomes root's once built.
UV_CACHE_DIR=$build_home/uv UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
  "$manage" --release "$id" --build --exec --no-env \
  --setenv UV_CACHE_DIR --setenv UV_LINK_MODE --setenv UV_PYTHON_DOWNLOADS --setenv UV_NATIVE_TLS \
  --setenv UV_NO_PROGRESS --setenv UV_PYTHON_INSTALL_DIR \
  /bin/sh -c "$install" sh "$uv" "$interpreter" "$release" "$requirements" "$server"
rm -f -- "$release/.djops-venv-key"
echo "$key" > "$release/.djops-venv-key"
