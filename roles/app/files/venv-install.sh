# shellcheck shell=sh
# Installs the requirements into a new venv of the release, for files/venv-build.sh: as the app's
# build user, in its sandbox, where the build backends of the requirements run.
# Usage: sh -c "$(cat venv-install.sh)" sh UV INTERPRETER RELEASE_DIR REQUIREMENTS SERVER
# pyproject.toml with a uv.lock beside it: the locked versions (uv sync --frozen); otherwise the
# requirements file (or pyproject's dependencies) through uv pip install. The venv is relocatable.
set -eu
uv=$1 interpreter=$2 release=$3 requirements=$4 server=$5
project=$(dirname "$release/$requirements")
"$uv" venv --quiet --relocatable --python "$interpreter" "$release/.venv"
if [ "${requirements##*/}" = pyproject.toml ] && [ -f "$project/uv.lock" ]; then
  (cd "$project" && UV_PROJECT_ENVIRONMENT="$release/.venv" "$uv" sync --frozen \
     --no-dev --no-install-project --compile-bytecode --quiet)
  set -- "$server"
else
  set -- -r "$release/$requirements" "$server"
fi
"$uv" pip install --quiet --compile-bytecode --python "$release/.venv/bin/python" "$@"
