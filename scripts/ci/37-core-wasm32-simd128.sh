#!/usr/bin/env bash
# The wasm `simd128` Keccak kernel (core/src/keccak/simd128.rs) is compiled
# only with +simd128; build it so it cannot rot. A separate target dir keeps
# the RUSTFLAGS change from invalidating the main build cache.
set -euo pipefail
RUSTFLAGS='-C target-feature=+simd128' cargo build -p torpeer-core \
  --target wasm32-unknown-unknown --locked --release \
  --target-dir "${CARGO_TARGET_DIR:-target}/wasm-simd128"
