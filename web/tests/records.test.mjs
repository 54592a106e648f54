// The test signer (support/records.mjs) against the two real verifiers: the
// native `torpeer record verify` CLI (when built) and the wasm package in
// Node. If the signer drifted from PROTOCOL.md, the browser tests would show
// failures for the wrong reason; this says so directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { network, tampered } from "./support/fixtures.mjs";

const now = Math.floor(Date.now() / 1000);
const targetDir = process.env.CARGO_TARGET_DIR ?? resolve(import.meta.dirname ?? ".", "../../target");
const cli = [process.env.TORPEER_BIN, join(targetDir, "debug/torpeer"), join(targetDir, "release/torpeer")].find((p) => p && existsSync(p));
const pkg = await import("torpeer").catch(() => null);
const real = pkg && typeof pkg.encodePeerList === "function" && !String(pkg.version ?? "").includes("stub");

test("the torpeer CLI verifies signed lists and names each tampering", { skip: !cli && "torpeer binary not built" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "torpeer-web-"));
  const good = join(dir, "good.json");
  writeFileSync(good, JSON.stringify(network({ count: 5, now, salt: "cli" })));
  const out = JSON.parse(execFileSync(cli, ["record", "verify", "--network", "testnet", "--difficulty", "8", "--list", "--json", good], { encoding: "utf8" }));
  assert.equal(out.ok, true);
  assert.equal(out.results.length, 5);

  const { list, expect } = tampered({ now });
  const bad = join(dir, "tampered.json");
  writeFileSync(bad, JSON.stringify(list));
  let text;
  try {
    execFileSync(cli, ["record", "verify", "--network", "testnet", "--difficulty", "8", "--list", "--json", bad], { encoding: "utf8" });
    assert.fail("a tampered list must not verify");
  } catch (err) {
    text = err.stdout;
  }
  const results = JSON.parse(text).results;
  assert.equal(results.length, 12);
  for (const r of results) assert.equal(r.code, expect.get(r.onion), r.onion);
});

test("the wasm package in Node gives the same verdicts", { skip: !real && "real torpeer package not installed" }, () => {
  const { list, expect } = tampered({ now });
  const verdicts = pkg.verifyPeerList(JSON.stringify(list), { network: "testnet", minDifficulty: 8, nowUnix: now });
  assert.equal(verdicts.length, 12);
  list.peers.forEach((entry, i) => assert.equal(verdicts[i].code, expect.get(entry.record.onion)));
  // Binary round trip: what the fake node serves with Accept: application/x-protobuf.
  const bytes = pkg.encodePeerList(list);
  assert.deepEqual(pkg.verifyPeerList(bytes, { network: "testnet", minDifficulty: 8, nowUnix: now }).map((v) => v.code), verdicts.map((v) => v.code));
});
