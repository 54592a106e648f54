// wasm vs native, side by side (BENCHMARKS.md, "WebAssembly"): the bare
// wasm32 module of this crate (built with +simd128) inside Node, and the
// native build of the same probes, in alternating windows so both see the
// same load.
//
//   node bench/wasm/run.mjs MODULE.wasm NATIVE_BINARY [SECONDS] [--json]
//
// Before timing it checks that the module's fastest kernel is simd128 and
// that every kernel in it hashes bit for bit like the sha3 crate (both
// inside wasm); it exits non-zero otherwise. It asserts nothing about speed.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const json = args.includes("--json");
const [wasmPath, nativeBin, secondsArg] = args.filter((a) => a !== "--json");
if (!wasmPath || !nativeBin) {
  throw new Error("usage: node run.mjs MODULE.wasm NATIVE_BINARY [SECONDS] [--json]");
}
const seconds = Number(secondsArg ?? 2);
const WINDOW = 0.25; // seconds per visit
const SLICE = 1 << 14; // tries per probe call, as natively
const KERNELS = ["portable", "avx2", "avx512", "avx512vl", "simd128"];

const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const w = instance.exports;
const best = KERNELS[w.best_kernel()];
if (best !== "simd128") {
  throw new Error(`the module's fastest kernel is ${best}, not simd128: built without +simd128?`);
}
const bad = w.selftest(1, 2000);
if (bad !== 0) throw new Error(`simd128/portable kernels differ from the sha3 crate: ${bad} mismatches`);
console.error("wasm module: best kernel simd128; selftest: every kernel bit-identical to sha3 (inside wasm)");

function wasmWindow(work) {
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < WINDOW * 1000) done += work();
  return [done, (performance.now() - start) / 1000];
}

function nativeWindow(probe, n) {
  const out = execFileSync(nativeBin, [probe, String(n), String(WINDOW)], { encoding: "utf8" });
  const perSecond = JSON.parse(out).per_second;
  return [perSecond * WINDOW, WINDOW];
}

const RECORDS = 64;
if (w.verify_setup(RECORDS) !== RECORDS || w.verify_run() !== RECORDS) {
  throw new Error("probe records did not verify in wasm");
}
const rows = [
  ["wasm solver, simd128 kernel (2 lanes)", "tries", () => {
    let call = 0;
    return wasmWindow(() => w.pow_tries(4, call++, SLICE));
  }],
  ["wasm solver, portable kernel", "tries", () => {
    let call = 0;
    return wasmWindow(() => w.pow_tries(0, call++, SLICE));
  }],
  ["native solver, portable kernel", "tries", () => nativeWindow("pow", 0)],
  ["wasm verify (one at a time, verify_strict)", "records", () => wasmWindow(() => w.verify_run())],
  ["native verify (one at a time, verify_strict)", "records", () => nativeWindow("verify", RECORDS)],
];
const totals = rows.map(() => [0, 0]);
const rounds = Math.max(2, Math.ceil(seconds / WINDOW));
for (let r = 0; r < rounds; r++) {
  rows.forEach(([, , run], i) => {
    const [units, secs] = run();
    totals[i][0] += units;
    totals[i][1] += secs;
  });
}
const rates = totals.map(([u, s]) => u / s);
const result = {
  seconds_per_figure: rounds * WINDOW,
  wasm_best_kernel: best,
  rows: rows.map(([name, unit], i) => ({ name, unit, per_second: rates[i] })),
  wasm_simd128_over_native_portable: rates[0] / rates[2],
  wasm_portable_over_native_portable: rates[1] / rates[2],
  wasm_simd128_over_wasm_portable: rates[0] / rates[1],
  wasm_verify_over_native_verify: rates[3] / rates[4],
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
  console.log("| path | per second |\n|---|---:|");
  result.rows.forEach((r) => console.log(`| ${r.name} | ${fmt(r.per_second)} ${r.unit} |`));
  console.log(
    `\nwasm simd128 / native portable: ${result.wasm_simd128_over_native_portable.toFixed(2)}x; ` +
      `wasm portable / native portable: ${result.wasm_portable_over_native_portable.toFixed(2)}x; ` +
      `simd128 / portable in wasm: ${result.wasm_simd128_over_wasm_portable.toFixed(2)}x; ` +
      `wasm verify / native verify: ${result.wasm_verify_over_native_verify.toFixed(2)}x`,
  );
}
