#!/usr/bin/env bash
# Unit, property and integration tests of the Rust workspace.
set -euo pipefail
cargo test --workspace --locked
