#!/usr/bin/env bash
# Debian packages: tor (HiddenServiceDir interop, private Tor network),
# chromium (dashboard tests), binaryen (wasm-opt).
set -euo pipefail
need=()
command -v tor >/dev/null || need+=(tor)
command -v chromium >/dev/null || need+=(chromium)
command -v wasm-opt >/dev/null || need+=(binaryen)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
# Debian starts a system tor when it can; our tests use their own ports and
# data directories and do not need it.
