#!/usr/bin/env bash
# Private Tor network: launches 3 authorities + 3 exit relays of Debian's
# `tor` on 127.0.0.1 (installed by setup.d/10-apt.sh) and
#  1. round-trips bytes through C-tor clients and C-tor onion services
#     (tornet/tests/network.rs);
#  2. runs the embedded arti transport on such a network
#     (native/tests/arti_tornet.rs): arti <-> own onion <-> C-tor onion
#     service/client, also after a supervised restart of the service,
#     then three `torpeer run --transport arti` nodes that discover each
#     other over onions, with a socket leak check.
# These tests are #[ignore]d in plain `cargo test`; here they run with
# TORPEER_REQUIRE_TOR=1, so a missing tor fails instead of skipping. Every
# wait in them polls with a budget (no fixed sleeps); a stage that does not
# make it names itself in the panic. Each network's logs and torrcs are
# copied to $TORPEER_ARTIFACTS/tornet-*, node logs to arti-nodes/.
# Runtime here (2 cores, warm target dir): see BENCHMARKS.md "Embedded arti
# node"; the build of the test binaries is shared with stage 20.
set -euo pipefail
export TORPEER_REQUIRE_TOR=1
out="$TORPEER_ARTIFACTS"
mkdir -p "$out"
cargo test --workspace --locked --test network -- --ignored --nocapture --test-threads=1 \
  2>&1 | tee "$out/tornet-ctor-test.log"
# One network per test, one test at a time (2 cores); the outer timeout only
# stops a hang that the tests' own budgets (~10 min worst case) missed.
timeout --signal=INT 1500 cargo test --workspace --locked --test arti_tornet -- --ignored --nocapture --test-threads=1 \
  2>&1 | tee "$out/tornet-arti-test.log"
