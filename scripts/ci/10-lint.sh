#!/usr/bin/env bash
# Formatting and clippy on every target, warnings are errors.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The node without its default `arti` feature (tcp and external tor only)
# must still build and lint clean: a cheaper build for people who run C tor.
cargo clippy -p torpeer-node --no-default-features --all-targets --locked -- -D warnings
