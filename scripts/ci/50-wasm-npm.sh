#!/usr/bin/env bash
# The `torpeer` npm package (issue 6):
#  1. cargo xtask npm: wasm32 build, wasm-bindgen (nodejs/bundler/web),
#     wasm-opt, package.json, npm pack; sizes go to the artifacts;
#  2. wasm-bindgen-test: the crate's exports inside Node;
#  3. a scratch project (wasm/npm/test, copied to a temporary folder):
#     npm ci, npm install of the tarball, tsc --noEmit on the typings, and
#     node --test against records signed by the native `torpeer` CLI, and
#     of the `torpeer/client` API client against running `torpeer` nodes
#     (loopback tcp);
#  4. the wasm-vs-native figures of BENCHMARKS.md, printed to the artifacts
#     (1 s per figure; they assert nothing).
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
art="${TORPEER_ARTIFACTS:-$root/artifacts}/wasm"
mkdir -p "$art"

echo "--- cargo xtask npm"
cargo xtask npm | tee "$art/xtask-npm.log"
tarball=$(tail -n1 "$art/xtask-npm.log")
[ -f "$tarball" ] || { echo "xtask npm did not end with a tarball path" >&2; exit 1; }

echo "--- wasm-bindgen-test (Node)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p torpeer-wasm --target wasm32-unknown-unknown --locked --tests

echo "--- native CLI for cross-implementation records"
# `--workspace` as in stage 20: reuses that build (a `-p` build resolves
# features anew and rebuilds arti); leaves the binary in $target/debug/.
cargo test --workspace --locked --no-run
export TORPEER_BIN="$target/debug/torpeer"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp wasm/npm/test/package.json wasm/npm/test/package-lock.json \
  wasm/npm/test/tsconfig.json wasm/npm/test/typings.ts wasm/npm/test/client-typings.ts \
  wasm/npm/test/package.test.mjs wasm/npm/test/client.test.mjs \
  wasm/npm/bench/bench.mjs "$scratch/"
cd "$scratch"
echo "--- npm ci + install $tarball"
npm ci --no-audit --no-fund
npm install --no-save --no-audit --no-fund "$tarball"
echo "--- tsc --noEmit"
npx tsc --noEmit -p .
echo "--- node --test"
node --test package.test.mjs
echo "--- node --test (torpeer/client against running torpeer nodes)"
# No --test-force-exit: a handle left open after the tests (a stream the
# client failed to close, a timer) is a bug and must show. `timeout` turns
# such a hang into a loud failure instead of a stalled CI run.
timeout --kill-after=10 600 node --test client.test.mjs

echo "--- figures (BENCHMARKS.md, WebAssembly)"
records="$scratch/records.json"
{
  echo "["
  for i in 1 2 3 4; do
    "$TORPEER_BIN" keygen --hs-dir "$scratch/bench-$i" --difficulty 8 >/dev/null
    "$TORPEER_BIN" record sign --hs-dir "$scratch/bench-$i" --port 80 --issued-at 1800000000
    [ "$i" -lt 4 ] && echo ","
  done
  echo "]"
} > "$records"
cd "$root"
{
  node "$scratch/bench.mjs" "$records" 1
  cargo run -q --release -p torpeer-wasm --example native_bench --locked -- "$records" 1
  grep '^size:' "$art/xtask-npm.log"
} 2>&1 | tee "$art/bench.txt"
