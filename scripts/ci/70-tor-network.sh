#!/usr/bin/env bash
# Private Tor network: launches 3 authorities + 3 exit relays of Debian's
# `tor` on 127.0.0.1 (installed by setup.d/10-apt.sh) and round-trips bytes
# through C-tor clients and C-tor onion services. These tests are
# #[ignore]d in plain `cargo test`; here they run
# with TORPEER_REQUIRE_TOR=1, so a missing tor fails instead of skipping.
# Each network's logs and torrcs are copied to $TORPEER_ARTIFACTS/tornet-*.
# Runtime: ~1-2 min for the network on 2 cores, plus a cold check of arti's
# ~400 crates (~3-5 min).
set -euo pipefail
export TORPEER_REQUIRE_TOR=1
out="$TORPEER_ARTIFACTS"
mkdir -p "$out"
cargo test -p torpeer-tornet --locked --test network -- --ignored --nocapture --test-threads=1 \
  2>&1 | tee "$out/tornet-ctor-test.log"
# The embedded-arti module and its live test (native/tests/arti_tornet.rs)
# must keep compiling; the live arti run is not part of CI yet (it has not
# been run green on this machine class — see the issue notes). Run it by hand:
#   cargo test -p torpeer-node --features arti --test arti_tornet -- --ignored --nocapture
cargo check -p torpeer-node --locked --features arti --all-targets
