#!/usr/bin/env bash
# Set up (idempotent), then run the example pipeline with every task in its own container.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$SKIFF_ROOT/scripts/setup.sh"
cd "$SKIFF_ROOT"
skiff=$(skiff_bin_dir)/skiff
say "skiff sandbox up"
"$skiff" sandbox up
say "skiff run --sandbox examples/pipeline.py pipeline --n 4"
"$skiff" run --sandbox examples/pipeline.py pipeline --n 4
say "done: skiff is $skiff (see set-up's last line for the link on PATH); try \`skiff --help\`"
