#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine with rustup,
# Node.js and npm. Each step lives in scripts/setup.d/ and skips itself when
# its tool is already there, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
for step in scripts/setup.d/*.sh; do
  echo "--> setup: $(basename "$step" .sh)"
  bash "$step"
done
