#!/usr/bin/env bash
# Tools for the wasm/npm stage (scripts/ci/50-wasm-npm.sh):
# - wasm-bindgen-cli at exactly the version of the pinned `wasm-bindgen`
#   crate (the CLI refuses modules from another version). Built from
#   crates.io with `cargo install`: wasm-pack's and npm's prebuilt-binary
#   downloads cannot be reached from CI. It also brings
#   `wasm-bindgen-test-runner` for the crate's own wasm tests.
# - wasm-opt comes from Debian's binaryen (scripts/setup.d/10-apt.sh).
# Skips itself when the right version is already installed.
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
cd "$(dirname "$0")/../.."
want=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ -z "$want" ]; then
  echo "cannot read the pinned wasm-bindgen version from Cargo.toml" >&2
  exit 1
fi
if command -v wasm-bindgen >/dev/null \
  && [ "$(wasm-bindgen --version)" = "wasm-bindgen $want" ] \
  && command -v wasm-bindgen-test-runner >/dev/null; then
  exit 0
fi
# Its own target dir, so this build never invalidates the workspace's.
export CARGO_TARGET_DIR="$HOME/.cache/torpeer/target-wasm-bindgen-cli"
# --locked first (the versions upstream tested). Its lock file can name a
# dependency release the registry no longer serves (0.2.130 locks
# webpki-roots 1.0.11, which was yanked); then resolve afresh within the
# same semver ranges, which is what a plain `cargo install` does.
cargo install wasm-bindgen-cli --version "$want" --locked \
  || cargo install wasm-bindgen-cli --version "$want"
