#!/usr/bin/env bash
# Unit, property and integration tests of the Rust workspace.
set -euo pipefail
# The four-node Tor test runs once, in stage 75 (TORPEER_SKIP_TOR_E2E).
TORPEER_SKIP_TOR_E2E=1 cargo test --workspace --locked
