#!/usr/bin/env bash
# Every table of BENCHMARKS.md's PoW, verification, peer-list/table and
# WebAssembly (probe) sections, in one run:
#
#   bash bench/run.sh [SECONDS]        # default 2 s per figure
#
# 1. torpeer-bench (default build, no -C target-cpu=native): solver kernels
#    vs the sha3 crate and openssl, 1 -> 2 threads, record verification,
#    peer lists, peer table at 10k and 1M entries;
# 2. bench/wasm/run.mjs: the +simd128 wasm module vs the native build of the
#    same probes in Node.
# Prints the load average before and after: ratios are measured side by
# side, absolute rates depend on what else runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-2}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
cargo build --release --locked -p torpeer-bench -p torpeer-bench-wasm --bins
RUSTFLAGS='-C target-feature=+simd128' cargo build --locked --release \
  -p torpeer-bench-wasm --lib --target wasm32-unknown-unknown --target-dir "$target/wasm-simd128"
"$target/release/torpeer-bench" --seconds "$seconds"
echo
echo "### WebAssembly (Node $(node --version)) vs native, same probes"
echo
node bench/wasm/run.mjs "$target/wasm-simd128/wasm32-unknown-unknown/release/torpeer_bench_wasm.wasm" \
  "$target/release/torpeer-bench-wasm-native" "$seconds"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
