#!/usr/bin/env bash
# cargo-fuzz for the fuzz stage (scripts/ci/40-fuzz.sh). It drives libFuzzer
# through nightly-only rustc flags, which the stage enables on the stable
# toolchain with RUSTC_BOOTSTRAP=1; no nightly toolchain is needed.
set -euo pipefail
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
