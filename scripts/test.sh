#!/usr/bin/env bash
# Set up (idempotent), then run the whole test suite; extra arguments go to pytest.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$SKIFF_ROOT/scripts/setup.sh"
cd "$SKIFF_ROOT"
export PATH="$(skiff_bin_dir):$PATH"  # the tests run this environment's skiff
say "python -m pytest -q tests $*"
exec "$(skiff_python)" -m pytest -q tests "$@" </dev/null
