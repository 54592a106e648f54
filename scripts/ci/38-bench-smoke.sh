#!/usr/bin/env bash
# The benchmark binary runs end to end (it first checks that batch and
# one-at-a-time verification agree on its list, and that peer lists round
# trip) with short windows; figures go to $TORPEER_ARTIFACTS/bench.json.
# Real figures: `cargo run --release -p torpeer-bench` on an idle machine.
set -euo pipefail
cargo run --release --locked -p torpeer-bench -- --seconds 0.2 --records 1000 --json \
  > "${TORPEER_ARTIFACTS:-artifacts}/bench.json"
