#!/usr/bin/env bash
# The main job for a newcomer: several local nodes discovering each other on
# loopback, with the dashboard served by the first one.
#
#   bash scripts/demo.sh [--nodes N] [--http 127.0.0.1:8686]
#
# Builds the dashboard once (the wasm package with wasm-bindgen-cli, then
# web/ with npm) and runs `torpeer demo`, which prints `dashboard: http://…/`.
# Ctrl-C stops every node. Needs Rust, Node.js and npm; installs the wasm32
# target and wasm-bindgen-cli if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ ! -f web/dist/index.html ]; then
  echo "--> building the dashboard (first run only)"
  bash scripts/setup.d/20-rust.sh
  bash scripts/setup.d/30-wasm-tools.sh
  tarball="$(cargo xtask npm --no-wasm-opt | tail -n 1)"
  [ -f "$tarball" ] || { echo "cargo xtask npm did not produce a tarball" >&2; exit 1; }
  (
    cd web
    npm ci --no-audit --no-fund
    npm install --no-save --no-audit --no-fund "$tarball"
    npm run build
  )
fi

exec cargo run --release -p torpeer-node --bin torpeer -- demo "$@"
