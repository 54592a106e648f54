#!/usr/bin/env bash
# Runs every test of TorPeer on a fresh machine: installs what it needs
# (scripts/setup.sh), then runs each stage in scripts/ci/ in order and stops at
# the first failure. This is the README's test command; .ci/run calls it.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh 20 40      # only stages whose file names start so
#
# Artifacts (logs, screenshots, fuzz figures) go to $TORPEER_ARTIFACTS
# (default: ./artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export TORPEER_ARTIFACTS="${TORPEER_ARTIFACTS:-$PWD/artifacts}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$TORPEER_ARTIFACTS"

if [ "${TORPEER_SKIP_SETUP:-0}" != 1 ]; then
  bash scripts/setup.sh
fi
export PATH="$HOME/.cargo/bin:$PATH"

stages=(scripts/ci/*.sh)
if [ $# -gt 0 ]; then
  selected=()
  for s in "${stages[@]}"; do
    for prefix in "$@"; do
      case "$(basename "$s")" in "$prefix"*) selected+=("$s") ;; esac
    done
  done
  stages=("${selected[@]}")
fi

for stage in "${stages[@]}"; do
  start=$(date +%s)
  echo "==> $(basename "$stage" .sh)"
  if ! bash "$stage"; then
    echo "FAILED: $(basename "$stage" .sh) after $(( $(date +%s) - start ))s" >&2
    exit 1
  fi
  echo "<== $(basename "$stage" .sh): ok in $(( $(date +%s) - start ))s"
done
echo "all stages passed"
