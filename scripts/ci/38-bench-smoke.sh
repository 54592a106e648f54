#!/usr/bin/env bash
# 1. The benchmark binary runs end to end with short windows (it first
#    checks that batch and one-at-a-time verification agree on its list,
#    that peer lists round trip, and that the peer table holds, finds and
#    evicts what it should); figures go to $TORPEER_ARTIFACTS/bench.json.
# 2. The wasm probes (bench/wasm) built as a bare wasm32 module with
#    +simd128 and run in Node: run.mjs fails unless the module's fastest
#    kernel is simd128 and every kernel in it hashes bit for bit like the
#    sha3 crate *inside wasm*; then short wasm-vs-native windows, to
#    $TORPEER_ARTIFACTS/bench-wasm.json.
# Real figures: the commands in BENCHMARKS.md, on an idle machine.
set -euo pipefail
art="${TORPEER_ARTIFACTS:-artifacts}"
mkdir -p "$art"
cargo run --release --locked -p torpeer-bench -- --seconds 0.2 --records 1000 \
  --table-sizes 1000 --json > "$art/bench.json"

# Same target dir as stage 37 (same RUSTFLAGS), so core is built once.
wasm_target="${CARGO_TARGET_DIR:-target}/wasm-simd128"
RUSTFLAGS='-C target-feature=+simd128' cargo build --locked --release \
  -p torpeer-bench-wasm --lib --target wasm32-unknown-unknown --target-dir "$wasm_target"
cargo build --locked --release -p torpeer-bench-wasm --bin torpeer-bench-wasm-native
node bench/wasm/run.mjs "$wasm_target/wasm32-unknown-unknown/release/torpeer_bench_wasm.wasm" \
  "${CARGO_TARGET_DIR:-target}/release/torpeer-bench-wasm-native" 0.5 --json > "$art/bench-wasm.json"
