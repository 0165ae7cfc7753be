# shellcheck shell=sh
# The steps of a release's build around its venv, for tasks/build.yml (sh -c, as root).
# Usage: sh -c "$(cat build.sh)" sh unpack RELEASE_DIR z|"" BUILD_USER  < base64 of a tar archive
#        sh -c "$(cat build.sh)" sh create RELEASE_DIR BUILD_USER
#        sh -c "$(cat build.sh)" sh finish MANAGE RELEASE SEAL BUILD COLLECT CHECK RELOCATE_PY
#
# unpack: make RELEASE_DIR afresh, the build user's alone (0700), and unpack the archive read
#   (base64) from stdin into it, gzip'ed with z; every file the build user's.
# create: the same without the archive (the role unpacks it with unarchive next).
# finish: for a release just built (BUILD true), collectstatic when COLLECT is true (as the build
#   user: MANAGE --build), then the Python RELOCATE_PY in the release's Django (it moves a
#   STATIC_ROOT the settings fix inside the release to where nginx serves it), then SEAL the
#   release (root's, read-only to the app); with CHECK true, `check --deploy` as the app's user.
#   Exit 2: SEAL is missing (the host was provisioned by an older djops).
set -eu

fresh_release_dir() {
  release_dir=$1 build_user=$2
  id -u -- "$build_user" >/dev/null 2>&1 \
    || { echo "the build user $build_user is missing: provision the host first" >&2; exit 1; }
  rm -rf -- "$release_dir"
  mkdir -m 0700 -- "$release_dir"
}

unpack() {
  fresh_release_dir "$1" "$3"
  base64 -d | tar -x"$2"f - -C "$1" --no-same-owner
  chown -R -- "$3:$3" "$1"
}

create() {
  fresh_release_dir "$1" "$2"
  chown -- "$2:$2" "$1"
}

finish() {
  manage=$1 release=$2 seal=$3 build=$4 collect=$5 check=$6 relocate=$7
  if [ "$build" = true ]; then
    [ -x "$seal" ] || { echo "$seal is missing: provision the host again (djops provision)" >&2; exit 2; }
    if [ "$collect" = true ]; then
      "$manage" --release "$release" --build collectstatic --noinput -v0
      "$manage" --release "$release" --build shell -v0 -c "$relocate"
    fi
    "$seal" "$release"
  fi
  [ "$check" != true ] || "$manage" --release "$release" check --deploy --fail-level ERROR
}

case ${1:-} in
  unpack) [ $# -eq 4 ] || { echo "usage: unpack RELEASE_DIR z|'' BUILD_USER" >&2; exit 2; } ;;
  create) [ $# -eq 3 ] || { echo "usage: create RELEASE_DIR BUILD_USER" >&2; exit 2; } ;;
  finish) [ $# -eq 8 ] || { echo "usage: finish MANAGE RELEASE SEAL BUILD COLLECT CHECK RELOCATE_PY" >&2; exit 2; } ;;
  *) echo "usage: build.sh unpack|create|finish ARGS..." >&2; exit 2 ;;
esac
action=$1
shift
"$action" "$@"
