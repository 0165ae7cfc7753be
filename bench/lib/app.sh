# Shared by bench/zero_downtime, bench/deploy_speed and bench/exposure (sourced, not run):
# a sandbox host with nginx (self-signed TLS) in front of the example app, deployed with
# djops.django.appserver + djops.django.app through playbooks/deploy.yml and rollback.yml.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$REPO/.venv/bin:$PATH"
WORK=$(mktemp -d /tmp/djops-bench.XXXXXX)
export ANSIBLE_HOME="$WORK/ansible-home" ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp"
export ANSIBLE_CONFIG="$REPO/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$REPO/.ansible/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACK_RESULT_FORMAT=json
BENCH_HOSTS=()

bench_cleanup() {
    local host
    for host in "${BENCH_HOSTS[@]}"; do
        djops sandbox down "$host" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# host_up NAME DISTRO DOMAIN [KIND [wsgi|asgi]]: boots the host and writes $WORK/inventory.yml
# and $WORK/app.yml.
host_up() {
    local name=$1 distro=$2 domain=$3 kind=${4:-gunicorn} entry=${5:-wsgi}
    BENCH_HOSTS+=("$name")
    djops sandbox up "$name" --distro "$distro" --alias "$domain" >/dev/null
    djops sandbox inventory "$name" | python3 -c '
import sys, yaml
hosts = yaml.safe_load(sys.stdin)["all"]["hosts"]
yaml.safe_dump({"all": {"children": {"app": {"hosts": hosts}}}}, sys.stdout)' > "$WORK/inventory.yml"
    cat > "$WORK/app.yml" <<YAML
appserver_app: notes
appserver_kind: $kind
appserver_wsgi: "$([ "$entry" = wsgi ] && echo notes.wsgi:application)"
appserver_asgi: "$([ "$entry" = asgi ] && echo notes.asgi:application)"
app_appserver: $kind
app_name: notes
app_settings: notes.settings
app_domains: [$domain]
app_env:
  DJANGO_DATA_DIR: /srv/notes/shared/data
YAML
    cat > "$WORK/site.yml" <<'YAML'
- name: Provision the app
  hosts: app
  become: true
  roles:
    - djops.django.appserver
    - djops.django.app
YAML
    BENCH_DOMAIN=$domain
}

# play PLAYBOOK [ARGS...]: runs a playbook against the bench host; output in $WORK/last.log.
play() {
    local playbook=$1
    shift
    ansible-playbook -i "$WORK/inventory.yml" -e "@$WORK/app.yml" "$playbook" "$@" > "$WORK/last.log" 2>&1
}

provision() {
    play "$REPO/molecule/app/prepare.yml" -e "djops_test_domain=$BENCH_DOMAIN" || { tail -30 "$WORK/last.log"; return 1; }
    play "$WORK/site.yml"
}

deploy() { play "$REPO/playbooks/deploy.yml" -e "app_archive=$1"; }
rollback() { play "$REPO/playbooks/rollback.yml" "$@"; }

# The sum of changed= in the last run's recap.
changed_count() { grep -Eo 'changed=[0-9]+' "$WORK/last.log" | cut -d= -f2 | paste -sd+ | bc; }

# The release id djops gives an archive.
release_of() { echo "r$(sha256sum "$1" | cut -c1-12)"; }

# make_archives: the example app at HEAD (v1) plus the variants of molecule/app/make_variants.sh.
make_archives() {
    git -C "$REPO" archive --format=tar.gz -o "$WORK/v1.tar.gz" HEAD:examples/notes
    "$REPO/molecule/app/make_variants.sh" "$WORK/v1.tar.gz" "$WORK/variants" >/dev/null
}

# served_releases N: the release of N responses to /version through nginx, counted per release.
served_releases() {
    local n=$1 urls=() i
    for ((i = 0; i < n; i++)); do urls+=("https://$BENCH_DOMAIN/version"); done
    curl -sk "${urls[@]}" | grep -o '"release": "[^"]*"' | sort | uniq -c | awk '{print $3 "x" $1}' | tr -d '"' | paste -sd' '
}

# static_has TEXT: whether the stylesheet the home page links to contains TEXT (yes/no).
static_has() {
    local css
    css=$(curl -sk "https://$BENCH_DOMAIN/" | grep -o '/static/board/site\.[0-9a-f]*\.css' | head -1)
    if [ -n "$css" ] && curl -sk "https://$BENCH_DOMAIN$css" | grep -q "$1"; then echo yes; else echo no; fi
}
