#!/usr/bin/env bash
# HiddenServiceDir interop with Debian's tor (installed by setup.d/10-apt.sh):
# the tor tests, with TORPEER_REQUIRE_TOR=1 so that a missing tor fails
# instead of skipping. Stage 20 already built them; this only runs them.
set -euo pipefail
export TORPEER_REQUIRE_TOR=1
command -v tor >/dev/null || { echo "tor is not installed" >&2; exit 1; }
cargo test --locked -p torpeer-tests --test hsdir_tor
cargo test --locked -p torpeer-node --test tor_interop
