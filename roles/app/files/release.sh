# shellcheck shell=sh
# Moves an app between its releases, for tasks/switch.yml and tasks/prune.yml (sh -c, as root).
# Usage: sh -c "$(cat release.sh)" sh switch UNIT RELEASE DOMAIN HEALTHCHECK TRIES APP_DIR
#        sh -c "$(cat release.sh)" sh back UNIT RELEASE PREVIOUS APP_DIR
#        sh -c "$(cat release.sh)" sh prune UNIT APP_DIR RELEASE...
#        sh -c "$(cat release.sh)" sh record HISTORY AUDIT_LOG LINE [RELEASE]
#
# switch: start a trial of RELEASE on its probe socket only (no visitor reaches it) and ask it
#   for HEALTHCHECK, up to TRIES times a second apart; print the last HTTP code. When it is 200,
#   start RELEASE for real next to the served one on the shared socket, point APP_DIR/current at
#   it, and stop every other release after its last requests (not only the one `current` named:
#   a deploy killed between the start and the stop leaves two running). Exit 10: RELEASE did not
#   start; exit 11: `current` could not be moved (stderr says why); exit 0 otherwise, also when
#   the code printed is not 200 (the caller judges it).
# back: put `current` back on PREVIOUS (or remove it when there was none), start PREVIOUS
#   (systemd returns when it is ready to serve), then stop RELEASE after its last requests.
# prune: move the RELEASEs out of APP_DIR/releases into APP_DIR/trash and delete them there in
#   the background: a release's venv is thousands of files, seconds the deploy need not wait.
# record: add RELEASE (when given: it went live) to the HISTORY file, and LINE to the AUDIT_LOG,
#   which is made root's and 0640 first when it does not exist.
set -u

# Wait for an instance still finishing its last requests (stopped without waiting by a recent
# switch): systemd would take a start for done and leave the sockets to a process on its way out.
settle() {
  [ "$(systemctl is-active "$1")" != deactivating ] || systemctl stop "$1"
}

switch() {
  unit=$1 release=$2 domain=$3 healthcheck=$4 tries=$5 app_dir=$6
  settle "$unit-check@$release.service"
  systemctl start "$unit-check@$release.service" || exit 10
  tried=0
  while :; do
    code=$(curl --silent --show-error --max-time 10 --output /dev/null --write-out '%{http_code}' \
      --unix-socket "/run/$unit-probe-$release.sock" --header "Host: $domain" \
      --header 'X-Forwarded-Proto: https' "http://localhost$healthcheck")
    tried=$((tried + 1))
    if [ "$code" = 200 ] || [ "$tried" -ge "$tries" ]; then
      break
    fi
    sleep 1
  done
  # The trial finishes in the background: it only ever listened on the probe socket.
  systemctl stop --no-block "$unit-check@$release.service"
  echo "$code"
  [ "$code" = 200 ] || exit 0
  settle "$unit@$release.service"
  # The listening socket first, on its own: a host set up by an earlier djops may hold it failed
  # (requests before the first release hit its trigger limit).
  systemctl start "$unit.socket" || exit 10
  systemctl start "$unit@$release.service" || exit 10
  { cd "$app_dir" && rm -f current.new && ln -sn "releases/$release" current.new \
    && mv -T current.new current; } || exit 11
  # Each other release with its probe socket, and trial instances left by killed runs.
  units=$(systemctl list-units --plain --no-legend --state=active "$unit@*.service" \
    "$unit-check@*.service" \
    | awk -v release="$unit@" -v keep="$unit@$release.service" -v trial="$unit-check@$release.service" '
        $1 != keep && $1 != trial { print $1 }
        $1 != keep && index($1, release) == 1 {
          sub(/@/, "-probe@", $1); sub(/[.]service$/, ".socket", $1); print $1 }')
  # One unit name per word.
  # shellcheck disable=SC2086
  [ -z "$units" ] || systemctl stop --no-block $units
}

back() {
  unit=$1 release=$2 previous=$3 app_dir=$4
  set -e
  cd "$app_dir"
  if [ -n "$previous" ]; then
    rm -f current.new && ln -sn "releases/$previous" current.new && mv -T current.new current
  else
    rm -f current
  fi
  if [ "$previous" != "$release" ]; then
    if [ -n "$previous" ]; then
      settle "$unit@$previous.service"
      systemctl start "$unit@$previous.service"
    fi
    systemctl stop "$unit@$release.service" "$unit-check@$release.service" \
      "$unit-probe@$release.socket"
  fi
}

prune() {
  unit=$1 app_dir=$2
  shift 2
  set -e
  run="$app_dir/trash/$(date +%s).$$"
  mkdir -p "$app_dir/trash"
  mkdir -m 0700 "$run"
  for release in "$@"; do
    mv -T -- "$app_dir/releases/$release" "$run/$release"
  done
  # With whatever an earlier, interrupted deletion left there. ($1 is the inner shell's.)
  # shellcheck disable=SC2016
  systemd-run --quiet --no-block --collect --unit="$unit-prune-$$" --property=Nice=10 \
    --property=IOSchedulingClass=idle sh -c 'rm -rf -- "$1"/*' sh "$app_dir/trash"
}

record() {
  history=$1 audit_log=$2 line=$3 release=${4:-}
  set -e
  [ -z "$release" ] || printf '%s\n' "$release" >> "$history"
  [ -e "$audit_log" ] || install -m 0640 -o root -g root /dev/null "$audit_log"
  printf '%s\n' "$line" >> "$audit_log"
}

case ${1:-} in
  switch) [ $# -eq 7 ] || { echo "usage: switch UNIT RELEASE DOMAIN HEALTHCHECK TRIES APP_DIR" >&2; exit 2; } ;;
  back) [ $# -eq 5 ] || { echo "usage: back UNIT RELEASE PREVIOUS APP_DIR" >&2; exit 2; } ;;
  prune) [ $# -ge 4 ] || { echo "usage: prune UNIT APP_DIR RELEASE..." >&2; exit 2; } ;;
  record) [ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: record HISTORY AUDIT_LOG LINE [RELEASE]" >&2; exit 2; } ;;
  *) echo "usage: release.sh switch|back|prune|record ARGS..." >&2; exit 2 ;;
esac
action=$1
shift
"$action" "$@"
