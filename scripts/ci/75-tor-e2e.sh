#!/usr/bin/env bash
# Four real `torpeer` nodes on a private Tor network on 127.0.0.1 (issue #5):
# a router and two participants on embedded arti, one participant behind its
# own C tor; discovery, messages, the bootstrap list over the router's onion,
# offline/online after SIGTERM and restart, and the /proc no-leak check.
# TORPEER_REQUIRE_TOR=1 turns "tor is missing" into a failure. Every wait in
# the test has a budget and names its stage when it runs out.
# Artifacts: $TORPEER_ARTIFACTS/tor-e2e/ (node logs, tor logs, timings.json,
# sockets.txt) and $TORPEER_ARTIFACTS/tor-e2e-test.log.
# Runtime here: see BENCHMARKS.md "Private Tor network: four nodes".
set -euo pipefail
export TORPEER_REQUIRE_TOR=1
out="${TORPEER_ARTIFACTS:-$PWD/artifacts}"
export TORPEER_ARTIFACTS="$out"
mkdir -p "$out"
command -v tor >/dev/null || { echo "tor is not installed" >&2; exit 1; }
target="${CARGO_TARGET_DIR:-$PWD/target}"
# The test runs the real binary; build it here so the test does not have to
# (test profile: reuses what stage 20's `cargo test` built; lands in debug/).
# The same package selection and features as stage 20 (`--workspace`), so
# cargo reuses that build instead of resolving features anew and rebuilding
# arti's ~400 crates; it leaves the test-profile binary in $target/debug/.
cargo test --workspace --locked --no-run
export TORPEER_BIN="$target/debug/torpeer"
cargo test --workspace --locked --test tor_network -- --nocapture --test-threads=1 \
  2>&1 | tee "$out/tor-e2e-test.log"
