#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/) briefly, starting from its
# committed seeds (fuzz/seeds/<target>/), with AddressSanitizer. Any crash,
# panic or failed invariant fails the stage; the crashing input is kept under
# $TORPEER_ARTIFACTS/fuzz/. Figures (execs, exec/s, cov, ft) per target go to
# $TORPEER_ARTIFACTS/fuzz/summary.txt.
#
#   TORPEER_FUZZ_SECS=300 bash scripts/test.sh 40   # longer, by hand
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"
export RUSTC_BOOTSTRAP=1
secs="${TORPEER_FUZZ_SECS:-20}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
out="${TORPEER_ARTIFACTS:-$PWD/../artifacts}/fuzz"
mkdir -p "$out"
: > "$out/summary.txt"

cargo fuzz build --target-dir "$target_dir"

status=0
for target in $(cargo fuzz list); do
  corpus="$(mktemp -d)"
  log="$out/$target.log"
  echo "--> fuzz $target for ${secs}s"
  # First corpus directory is the writable scratch one; seeds are read-only.
  if ! cargo fuzz run "$target" --target-dir "$target_dir" "$corpus" "seeds/$target" -- \
      -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$out/$target-" >"$log" 2>&1; then
    echo "FAILED: fuzz target $target; crash input and log in $out" >&2
    tail -n 40 "$log" >&2
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(find "$corpus" -type f | wc -l)
  line="$target: ${secs}s execs=${execs:-?} exec/s=${rate:-?} cov=${cov:-?} ft=${ft:-?} new_corpus_files=$units"
  echo "$line" | tee -a "$out/summary.txt"
  rm -rf "$corpus"
done
exit "$status"
