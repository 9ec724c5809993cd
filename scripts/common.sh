# Sourced by setup.sh, test.sh and try.sh: where the project is, which Python to use, timing.
# shellcheck shell=bash

SKIFF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SKIFF_CACHE_DIR=${SKIFF_CACHE_DIR:-$HOME/.cache/skiff}
export DEBIAN_FRONTEND=noninteractive PIP_ROOT_USER_ACTION=ignore

say() { printf '[skiff %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# step NAME COMMAND...: run one set-up step and print how long it took. It is not called as
# `"$@" || ...`, which would switch off `set -e` inside the step; the ERR trap (set -E) names
# the step that failed instead.
step() {
    local started=$SECONDS
    SKIFF_STEP=$1
    shift
    say "$SKIFF_STEP ..."
    "$@"
    say "$SKIFF_STEP: done in $((SECONDS - started)) s"
}
trap 'say "FAILED: ${SKIFF_STEP:-set-up} (exit $?)"' ERR

# The Python that runs Skiff: $SKIFF_PYTHON when set (an environment the caller manages), else
# the project's own .venv, which setup.sh creates. Never the system's or the user's python3
# (Debian's, pyenv's, conda's): installing into it would change that interpreter's packages.
skiff_python() {
    if [[ -n ${SKIFF_PYTHON:-} ]]; then echo "$SKIFF_PYTHON"; return; fi
    echo "$SKIFF_ROOT/.venv/bin/python"
}

# The directory that holds that environment's `skiff`.
skiff_bin_dir() { dirname "$(skiff_python)"; }
