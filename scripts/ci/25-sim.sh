#!/usr/bin/env bash
# Heavy simulator scenarios (1,000 nodes, loss and churn), in release: too
# slow for the debug `cargo test --workspace` stage. The reports go to the
# artifacts directory.
set -euo pipefail
mkdir -p "${TORPEER_ARTIFACTS:-artifacts}"
cargo test --release --locked -p torpeer-sim --test scenarios -- --ignored --nocapture \
  2>&1 | tee "${TORPEER_ARTIFACTS:-artifacts}/sim-heavy.log"
