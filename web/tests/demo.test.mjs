// The dashboard against a live `torpeer demo` (the newcomer's main command):
// the real binary starts a router and participants on loopback TCP and
// serves the built dashboard (web/dist) at `/` of the router's HTTP API. The
// page must show every participant the router learned, verified in
// WebAssembly, drawn as a graph — live, as the nodes find each other. And
// the same page as plain static files on another origin, pointed at the
// demo node's URL: the real node's CORS headers against a real browser.
//
// Needs the binary: TORPEER_BIN, or target/debug/torpeer. In CI
// (scripts/ci/80-dashboard.sh sets TORPEER_REQUIRE_DEMO=1) a missing binary
// fails the test instead of skipping it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import protobuf from "protobufjs";
import { assertNoUnexpectedErrors, watchErrors } from "./support/console.mjs";
import { staticServer } from "./support/servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, "..");
const protoFile = resolve(webDir, "../proto/torpeer.proto");
const artifacts = join(process.env.TORPEER_ARTIFACTS ?? join(webDir, "test-results"), "dashboard");
mkdirSync(artifacts, { recursive: true });
const targetDir = process.env.CARGO_TARGET_DIR ?? resolve(webDir, "../target");
const bin = [process.env.TORPEER_BIN, join(targetDir, "debug/torpeer")].find((p) => p && existsSync(p));
if (!bin && process.env.TORPEER_REQUIRE_DEMO === "1") {
  throw new Error("TORPEER_REQUIRE_DEMO=1 but no torpeer binary (set TORPEER_BIN or build target/debug/torpeer)");
}

const NODES = 5;
const WAIT = { timeout: 120_000 };
const TEST_TIMEOUT = 300_000;

let demo;
let demoLog = "";
let dashboard;
let browser;

/** Starts `torpeer demo` and resolves with the dashboard URL it prints. */
function startDemo() {
  return new Promise((resolvePromise, reject) => {
    // --web-dir: this tree's build, whatever the binary was compiled from.
    const args = ["demo", "--nodes", String(NODES), "--http", "127.0.0.1:0", "--web-dir", join(webDir, "dist")];
    demo = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    demo.stderr.on("data", (d) => (demoLog += d));
    demo.once("error", reject);
    demo.once("exit", (code) => reject(new Error(`torpeer demo exited (${code}) before printing its dashboard URL:\n${demoLog}`)));
    createInterface({ input: demo.stdout }).on("line", (line) => {
      demoLog += `${line}\n`;
      const m = /^dashboard: (http:\/\/\S+)$/.exec(line);
      if (m) resolvePromise(m[1]);
    });
  });
}

before(async () => {
  if (!bin) return;
  dashboard = await startDemo();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once("exit", r));
    demo.kill("SIGINT");
    await exited;
  }
});

test("torpeer demo: the dashboard it serves shows every participant verified and drawn", { timeout: TEST_TIMEOUT, skip: !bin && "torpeer binary not built" }, async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = watchErrors(page);
  await page.goto(dashboard);
  // The page picks its own node's list and difficulty up from the origin.
  assert.equal(await page.inputValue("#urls"), `${new URL("/v1/peers", dashboard)}`);
  assert.equal(await page.isChecked("#live"), true);
  // The router learns the participants as they dial in; live refresh shows them.
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="peer-row"][data-verified="true"]').length >= n,
    NODES - 1,
    WAIT,
  );
  const rows = await page.$$eval('[data-testid="peer-row"]', (trs) => trs.map((tr) => ({ onion: tr.dataset.onion, verified: tr.dataset.verified, text: tr.textContent })));
  assert.ok(rows.every((r) => r.verified === "true"), `unverified rows: ${JSON.stringify(rows.filter((r) => r.verified !== "true"))}`);
  const onions = new Set(rows.map((r) => r.onion));
  assert.equal(onions.size, rows.length, "one row per peer");
  for (const line of demoLog.split("\n").filter((l) => / participant tcp /.test(l))) {
    const onion = line.split(" ")[2];
    assert.ok(onions.has(onion), `participant ${onion} missing from the dashboard`);
  }
  // The graph: every participant plus the router it was learned by.
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="peer-graph"]')?.dataset.nodeCount) === n, NODES, WAIT);
  // The status API the page read agrees with the rows.
  const status = await (await fetch(new URL("/v1/status", dashboard))).json();
  assert.ok(status.known_peers >= NODES - 1, JSON.stringify(status));
  await page.screenshot({ path: join(artifacts, "demo-live.png") });
  assertNoUnexpectedErrors(errors);
  await page.close();
});

test("the dashboard on another origin loads the live demo node's /v1/peers (CORS; JSON and binary)", { timeout: TEST_TIMEOUT, skip: !bin && "torpeer binary not built" }, async () => {
  // web/dist as plain static files on another loopback port: every request
  // to the node is cross-origin, answered by the node's own CORS headers.
  const site = await staticServer(join(webDir, "dist"));
  try {
    const node = new URL(dashboard);
    assert.notEqual(new URL(site.url).origin, node.origin);
    const peersUrl = `${new URL("/v1/peers", node)}`;
    for (const format of ["json", "binary"]) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors = watchErrors(page);
      await page.goto(`${site.url}/?src=${encodeURIComponent(peersUrl)}&minDifficulty=8&format=${format}&live=1&interval=1`);
      assert.equal(await page.inputValue("#format"), format);
      // The router's list: its own record and the NODES - 1 participants it
      // met. A fetch the browser blocked shows as a failed source at once.
      await page.waitForFunction(
        (n) =>
          document.querySelector('[data-testid="source"][data-ok="false"]') ||
          (document.querySelectorAll('[data-testid="peer-row"][data-verified="true"]').length === n && document.querySelectorAll('[data-testid="peer-row"]').length === n),
        NODES,
        WAIT,
      );
      const failed = await page.$$eval('[data-testid="source"][data-ok="false"]', (l) => l.map((li) => li.textContent));
      assert.deepEqual(failed, [], `${format}: the node's list did not load cross-origin: ${await page.textContent("#banner")}; console: ${JSON.stringify(errors)}`);
      const list = await (await fetch(peersUrl)).json();
      const rows = await page.$$eval('[data-testid="peer-row"]', (trs) => trs.map((tr) => ({ onion: tr.dataset.onion, verified: tr.dataset.verified, code: tr.dataset.code })));
      assert.deepEqual(new Set(rows.map((r) => r.onion)), new Set(list.peers.map((e) => e.record.onion)), `${format}: rows are the node's list`);
      assert.ok(rows.every((r) => r.verified === "true" && r.code === "ok"), `${format}: ${JSON.stringify(rows)}`);
      assert.equal(await page.getAttribute('[data-testid="summary"]', "data-verified"), String(NODES));
      assert.equal(await page.getAttribute('[data-testid="summary"]', "data-failed"), "0");
      assert.deepEqual(await page.$$eval('[data-testid="source"]', (l) => l.map((li) => [li.dataset.ok, li.querySelector("strong").textContent])), [["true", peersUrl]]);
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid="peer-graph"]')?.dataset.nodeCount) === n, NODES, WAIT);
      if (format === "json") {
        // A request the browser must preflight (Authorization is not a
        // CORS-safelisted header): it only gets through if the node answers
        // the OPTIONS and allows the header, cross-origin.
        const preflighted = await page.evaluate(async (url) => {
          const r = await fetch(url, { headers: { Authorization: "Bearer not-the-token", "Content-Type": "application/json" }, cache: "no-store" });
          return { status: r.status, type: r.headers.get("content-type"), body: await r.json() };
        }, `${new URL("/v1/status", node)}`);
        assert.equal(preflighted.status, 200);
        assert.equal(preflighted.type, "application/json");
        assert.equal(preflighted.body.role, "router");
      }
      await page.screenshot({ path: join(artifacts, `demo-cross-origin-${format}.png`) });
      assertNoUnexpectedErrors(errors);
      await page.close();
    }
  } finally {
    site.server.close();
  }
});

/**
 * Strict proto3 JSON shape check on top of protobufjs's `fromObject`, which
 * is lenient: it ignores keys it does not know, turns a malformed number
 * into 0 and drops an unknown enum name. So every key must be a field of
 * the message (lowerCamelCase, as the proto3 JSON mapping prints it), every
 * enum value one of the enum's names, every 64-bit integer a decimal string.
 */
function assertProto3Json(type, obj, path = type.name) {
  assert.equal(typeof obj, "object", `${path}: object expected`);
  assert.ok(obj !== null && !Array.isArray(obj), `${path}: object expected`);
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key];
    assert.ok(field, `${path}.${key}: not a field of ${type.fullName} (fields: ${Object.keys(type.fields).join(", ")})`);
    field.resolve();
    const values = field.repeated ? (assert.ok(Array.isArray(value), `${path}.${key}: array expected`), value) : [value];
    values.forEach((v, i) => {
      const at = field.repeated ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (field.resolvedType instanceof protobuf.Type) assertProto3Json(field.resolvedType, v, at);
      else if (field.resolvedType instanceof protobuf.Enum) assert.ok(Object.hasOwn(field.resolvedType.values, v), `${at}: ${JSON.stringify(v)} is not a ${field.resolvedType.name} name`);
      else if (["uint64", "int64", "fixed64", "sint64", "sfixed64"].includes(field.type)) assert.match(v, /^-?\d+$/, `${at}: 64-bit integers are decimal strings`);
    });
  }
}

test("the live node's /v1/peers JSON parses with protobufjs as the PeerList of its binary form", { timeout: TEST_TIMEOUT, skip: !bin && "torpeer binary not built" }, async () => {
  // An independent proto3 implementation, fed the schema file itself: not
  // serde_json, not the node's own pbjson code.
  const root = await protobuf.load(protoFile);
  const PeerList = root.lookupType("torpeer.v1.PeerList");
  const asObject = (m) => PeerList.toObject(m, { longs: String, bytes: String, enums: String, defaults: true });

  // The checks can fail: protobufjs reports a wrongly structured field, and
  // the strict check reports what fromObject would silently drop.
  assert.throws(() => PeerList.fromObject({ peers: {} }), /array expected/);
  assert.throws(() => PeerList.fromObject({ peers: [{ record: "x" }] }), /object expected/);
  assert.throws(() => assertProto3Json(PeerList, { peers: [{ record: { issued_at: "1" } }] }), /not a field/);
  assert.throws(() => assertProto3Json(PeerList, { peers: [{ status: "ONLINE" }] }), /not a PeerStatus name/);
  assert.throws(() => assertProto3Json(PeerList, { generatedAt: 1 }), /decimal strings/);

  const peersUrl = new URL("/v1/peers", dashboard);
  const status = await (await fetch(new URL("/v1/status", dashboard))).json();
  let json;
  let binary;
  let fromJson;
  let fromBinary;
  // The two fetches are two snapshots of a live table (a peer may join, a
  // timestamp tick over): retry until one pair agrees, but only an exact
  // match passes.
  const deadline = Date.now() + WAIT.timeout;
  for (;;) {
    const jr = await fetch(peersUrl);
    assert.equal(jr.status, 200);
    assert.match(jr.headers.get("content-type"), /^application\/json/);
    json = await jr.json();
    const br = await fetch(peersUrl, { headers: { Accept: "application/x-protobuf" } });
    assert.equal(br.status, 200);
    assert.equal(br.headers.get("content-type"), "application/x-protobuf");
    binary = new Uint8Array(await br.arrayBuffer());
    assertProto3Json(PeerList, json);
    fromJson = asObject(PeerList.fromObject(json));
    fromBinary = asObject(PeerList.decode(binary));
    const same = JSON.stringify(fromJson) === JSON.stringify(fromBinary);
    if ((same && fromJson.peers.length >= NODES) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(fromJson, fromBinary, "proto3 JSON and binary protobuf of /v1/peers give the same PeerList");
  assert.equal(fromJson.network, status.network);
  assert.equal(fromJson.source, status.onion);
  // The router's own record and the NODES - 1 participants it met.
  assert.ok(fromJson.peers.length >= NODES, `peers: ${fromJson.peers.length}`);
  const onions = fromBinary.peers.map((e) => e.record.onion);
  assert.deepEqual(
    fromJson.peers.map((e) => e.record.onion),
    onions,
  );
  assert.deepEqual(json.peers.map((e) => e.record.onion), onions, "the raw JSON's onions");
  assert.equal(new Set(onions).size, onions.length, "one entry per peer");
  for (const e of fromBinary.peers) {
    assert.match(e.record.onion, /^[a-z2-7]{56}\.onion$/);
    assert.equal(e.record.network, status.network);
    assert.match(e.record.role, /^ROLE_(ROUTER|PARTICIPANT)$/);
    assert.equal(Buffer.from(e.record.signature, "base64").length, 64, `${e.record.onion}: 64-byte signature`);
  }
  assert.ok(onions.includes(status.onion), "the router lists its own record");
});
