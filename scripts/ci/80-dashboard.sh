#!/usr/bin/env bash
# The browser dashboard (web/): build the `torpeer` npm package from the Rust
# core, install it into web/ (not saved: the tarball is built, never
# committed), build the static page into web/dist/, then run its tests in
# Debian's headless Chromium via playwright-core. Screenshots and the
# 5,000-peer figures land in $TORPEER_ARTIFACTS/dashboard/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TORPEER_ARTIFACTS="${TORPEER_ARTIFACTS:-$PWD/artifacts}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
mkdir -p "$TORPEER_ARTIFACTS/dashboard"

# `cargo xtask npm` prints the tarball's absolute path on its last line.
# --no-wasm-opt: Debian's binaryen (wasm-opt 108) turns wasm-bindgen's
# externref table into one that Node 20 and Chromium 156 refuse at init
# ("WebAssembly.Table.set(): ... function-typed object"); the unoptimised
# module loads in both.
tarball="$(cargo xtask npm --no-wasm-opt | tail -n 1)"
if [ ! -f "$tarball" ]; then
  echo "cargo xtask npm did not end with a tarball path (got: $tarball)" >&2
  exit 1
fi

cd web
npm ci --no-audit --no-fund
npm install --no-save --no-audit --no-fund "$tarball"
npm run build
# tests/records.test.mjs also checks the test signer against the CLI that
# stage 20 built (it skips that check when the binary is absent).
# tests/demo.test.mjs runs the real `torpeer demo` (which serves web/dist at
# `/`), so the binary is built here (a no-op after stage 50) and required.
(cd .. && cargo test --workspace --locked --no-run)
TORPEER_REQUIRE_DEMO=1 TORPEER_BIN="$CARGO_TARGET_DIR/debug/torpeer" npm test
