// The dashboard against a live `torpeer demo` (the newcomer's main command):
// the real binary starts a router and participants on loopback TCP and
// serves the built dashboard (web/dist) at `/` of the router's HTTP API. The
// page must show every participant the router learned, verified in
// WebAssembly, drawn as a graph — live, as the nodes find each other.
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

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, "..");
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
    demo = spawn(bin, ["demo", "--nodes", String(NODES), "--http", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
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
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
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
  assert.deepEqual(errors, []);
  await page.close();
});
