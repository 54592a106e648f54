#!/usr/bin/env bash
# Private Tor network: launches 3 authorities + 3 exit relays of Debian's
# `tor` on 127.0.0.1 (installed by setup.d/10-apt.sh) and round-trips bytes
# through C-tor clients, C-tor onion services and the embedded arti
# transport. These tests are #[ignore]d in plain `cargo test`; here they run
# with TORPEER_REQUIRE_TOR=1, so a missing tor fails instead of skipping.
# Each network's logs and torrcs are copied to $TORPEER_ARTIFACTS/tornet-*.
# Runtime: ~2-4 min on 2 cores (two networks, one at a time).
set -euo pipefail
export TORPEER_REQUIRE_TOR=1
out="$TORPEER_ARTIFACTS"
mkdir -p "$out"
cargo test -p torpeer-tornet --locked --test network -- --ignored --nocapture --test-threads=1 \
  2>&1 | tee "$out/tornet-ctor-test.log"
cargo test -p torpeer-node --locked --features arti --test arti_tornet -- --ignored --nocapture --test-threads=1 \
  2>&1 | tee "$out/tornet-arti-test.log"
