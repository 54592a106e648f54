#!/usr/bin/env bash
# The core is sans-IO and builds for wasm32-unknown-unknown; the module it
# produces must import nothing from "env" (no hidden libc or clock use).
set -euo pipefail
cargo build -p torpeer-core --target wasm32-unknown-unknown --locked
