// wasm side of the wasm-vs-native comparison in BENCHMARKS.md
// ("WebAssembly"); wasm/examples/native_bench.rs is the native side and reads
// the same records.
//
//   node bench.mjs RECORDS.json [SECONDS]   (from a project that installed torpeer)
//
// Prints figures; asserts nothing about speed.
import { readFileSync } from "node:fs";
import { encodeRecord, solvePow, verifyRecord } from "torpeer";

const [path, secondsArg] = process.argv.slice(2);
if (!path) throw new Error("usage: node bench.mjs RECORDS.json [SECONDS]");
const seconds = Number(secondsArg ?? 2);
const records = JSON.parse(readFileSync(path, "utf8"));
const options = { minDifficulty: 8, nowUnix: records[0].issuedAt };

function rate(label, inputs) {
  for (const input of inputs) {
    const { ok, code } = verifyRecord(input, options);
    if (!ok) throw new Error(`record refused: ${code}`);
  }
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < seconds * 1000) {
    for (const input of inputs) {
      verifyRecord(input, options);
      done += 1;
    }
  }
  const perSecond = done / ((performance.now() - start) / 1000);
  console.log(`wasm verifyRecord(${label}): ${perSecond.toFixed(0)} records/s (${done} in ${seconds} s)`);
}

rate("json", records.map((r) => JSON.stringify(r)));
rate("object", records);
rate("binary", records.map((r) => encodeRecord(r)));

// Solver: difficulty 64 is never met, so maxHashes bounds each call and
// every hash is counted work (the call throws pow_not_found).
const onion = records[0].onion;
const chunk = 1 << 18;
let hashes = 0;
const start = performance.now();
while (performance.now() - start < seconds * 1000) {
  try {
    solvePow({ onion, difficulty: 64, maxHashes: chunk });
  } catch (e) {
    if (e.code !== "pow_not_found") throw e;
  }
  hashes += chunk;
}
const mhs = hashes / ((performance.now() - start) / 1000) / 1e6;
console.log(`wasm solvePow (1 thread): ${mhs.toFixed(2)} Mhash/s`);
