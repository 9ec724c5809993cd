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

# The Python that runs Skiff: $SKIFF_PYTHON, else the project's .venv if set-up made one,
# else python3 when pip may install into it (not Debian's externally managed system Python).
skiff_python() {
    if [[ -n ${SKIFF_PYTHON:-} ]]; then echo "$SKIFF_PYTHON"; return; fi
    if [[ -x $SKIFF_ROOT/.venv/bin/python ]]; then echo "$SKIFF_ROOT/.venv/bin/python"; return; fi
    if python3 -c 'import pip, sys, sysconfig, pathlib; sys.exit(pathlib.Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").exists())' 2>/dev/null; then
        python3 -c 'import sys; print(sys.executable)'; return
    fi
    echo "$SKIFF_ROOT/.venv/bin/python"
}
