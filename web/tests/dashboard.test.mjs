// End-to-end tests of the built dashboard (web/dist) in Debian's headless
// Chromium, driven by playwright-core. Lists are signed at test time
// (tests/support/records.mjs) and verified in the page by the real `torpeer`
// wasm package. Screenshots and benchmark figures go to
// $TORPEER_ARTIFACTS/dashboard/.
//
//   npm run build && npm test
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { allInvalid, network, tampered } from "./support/fixtures.mjs";
import { apiServer, closedPort, staticServer } from "./support/servers.mjs";
import { assertNoUnexpectedErrors, notFound, refused, watchErrors } from "./support/console.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, "..");
const artifacts = join(process.env.TORPEER_ARTIFACTS ?? join(webDir, "test-results"), "dashboard");
mkdirSync(artifacts, { recursive: true });

const pkg = JSON.parse(readFileSync(join(webDir, "node_modules/torpeer/package.json"), "utf8"));
const stub = pkg.version.includes("stub");
if (stub && process.env.TORPEER_ALLOW_STUB !== "1") {
  throw new Error("node_modules/torpeer is the development stub, which verifies nothing: install the real package (cargo xtask npm).");
}
/** The package's Node build, used only to serve binary protobuf; the page uses its own (web) build. */
const torpeer = stub ? null : await import("torpeer").catch((err) => {
  console.log(`# the torpeer Node build did not load (${err.message}); binary-format test skipped`);
  return null;
});

const BIG = 5000;
const WAIT = { timeout: 120_000 };
/** A stuck browser fails its test instead of stalling CI (not a speed limit: every wait inside is shorter). */
const TEST_TIMEOUT = 300_000;
const now = Math.floor(Date.now() / 1000);

/** Graph nodes the page must draw: every record's onion, learnedFrom, and the source when someone was met directly. */
function expectedNodes(list) {
  const onions = new Set();
  for (const e of list.peers) {
    onions.add(e.record.onion);
    onions.add(e.learnedFrom || list.source);
  }
  return onions.size;
}

let browser;
let site;
let api;
const good = network({ count: 12, now, salt: "good" });
const bad = tampered({ now });
const invalid = allInvalid({ now });

before(async () => {
  site = await staticServer(join(webDir, "dist"));
  api = await apiServer({ encode: torpeer ? (list) => torpeer.encodePeerList(list) : undefined });
  api.lists.set("good", good);
  api.lists.set("tampered", bad.list);
  api.lists.set("invalid", invalid);
  api.lists.set("malformed", '{"peers": [ this is not json');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  site?.server.close();
  api?.server.close();
});

/** A page that records console errors and uncaught exceptions (support/console.mjs). */
async function openPage(query, { viewport = { width: 1400, height: 1000 } } = {}) {
  const page = await browser.newPage({ viewport });
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    window.__longtasks = [];
    new PerformanceObserver((l) => window.__longtasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: "longtask", buffered: true });
  });
  await page.goto(`${site.url}/${query}`);
  return { page, errors };
}

const params = (name, extra = "") => `?src=${encodeURIComponent(`${api.url}/${name}/v1/peers`)}&minDifficulty=8${extra}`;

async function rows(page) {
  return page.$$eval('[data-testid="peer-row"]', (trs) => trs.map((tr) => ({ onion: tr.dataset.onion, verified: tr.dataset.verified, code: tr.dataset.code, text: tr.textContent })));
}

/** Waits until the rows are in; fails at once (with the page's banner) if the page gave up. */
async function ready(page) {
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', WAIT);
  if ((await page.getAttribute("body", "data-state")) === "error") assert.fail(`page error: ${await page.textContent("#banner")}`);
}

describe("dashboard", () => {
  test("a signed list from a node: every record verified, graph drawn", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("good"));
    await ready(page);
    await page.waitForSelector('[data-testid="peer-graph"][data-layout="done"]', WAIT);
    const got = await rows(page);
    assert.equal(got.length, 12);
    assert.deepEqual(new Set(got.map((r) => r.onion)), new Set(good.peers.map((e) => e.record.onion)));
    assert.ok(got.every((r) => r.verified === "true" && r.code === "ok"), JSON.stringify(got));
    const count = await page.getAttribute('[data-testid="peer-graph"]', "data-node-count");
    assert.equal(Number(count), expectedNodes(good));
    assert.equal(Number(count), 13, "12 peers and the list's source");
    assert.equal(await page.getAttribute('[data-testid="summary"]', "data-verified"), "12");
    await page.screenshot({ path: join(artifacts, "verified.png"), fullPage: true });
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("a tampered list: each failure shows its reason code and message", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("tampered"));
    await ready(page);
    const got = await rows(page);
    assert.equal(got.length, 12);
    for (const row of got) {
      const want = bad.expect.get(row.onion);
      assert.equal(row.code, want, `${row.onion}: ${row.text}`);
      assert.equal(row.verified, String(want === "ok"));
    }
    const codes = new Set(got.map((r) => r.code));
    for (const code of ["bad_signature", "bad_pow", "wrong_network", "expired", "from_future", "malformed_address"]) assert.ok(codes.has(code), code);
    // The message is on the page, not only the code.
    const expired = got.find((r) => r.code === "expired");
    assert.match(expired.text, /expire/i);
    assert.equal(await page.getAttribute('[data-testid="summary"]', "data-failed"), "7");
    assert.equal(Number(await page.getAttribute('[data-testid="peer-graph"]', "data-node-count")), expectedNodes(bad.list));
    await page.screenshot({ path: join(artifacts, "tampered.png"), fullPage: true });

    // Filter to failures only, then open one in the detail panel by keyboard.
    await page.selectOption("#filter-verdict", "fail");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="peer-row"]').length === 7);
    assert.ok((await rows(page)).every((r) => r.verified === "false"));
    const first = page.locator('[data-testid="peer-row"][data-code="wrong_network"]');
    await first.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('[data-testid="detail-verdict"]');
    assert.match(await page.textContent('[data-testid="detail-verdict"]'), /wrong_network: .*othernet/);
    assert.equal(await first.getAttribute("aria-current"), "true");
    await page.screenshot({ path: join(artifacts, "tampered-detail.png"), fullPage: true });
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("sorting by a column reorders the rows", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("tampered"));
    await ready(page);
    await page.click('[role=columnheader][data-col="code"] button');
    await ready(page);
    const asc = (await rows(page)).map((r) => r.code);
    assert.deepEqual(asc, [...asc].sort());
    await page.click('[role=columnheader][data-col="code"] button');
    await ready(page);
    const desc = (await rows(page)).map((r) => r.code);
    assert.deepEqual(desc, [...asc].sort().reverse());
    assert.equal(await page.getAttribute('[role=columnheader][data-col="code"]', "aria-sort"), "descending");
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("keyboard: Tab reaches the column headers, Enter and Space sort", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("tampered"));
    await ready(page);
    const initial = (await rows(page)).map((r) => r.onion);
    // Each header is a real button inside an ARIA column header (what a screen reader announces).
    for (const name of ["Verified", "Onion", "Reason", "Role", "Status", "Age", "PoW", "Learned from"]) {
      assert.equal(await page.getByRole("columnheader", { name, exact: true }).getByRole("button", { name, exact: true }).count(), 1, name);
    }
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-sort") ?? document.activeElement?.id ?? null);
    const sortOf = (col) => page.getAttribute(`[role=columnheader][data-col="${col}"]`, "aria-sort");
    const settled = () => page.waitForSelector('#peer-table[data-rendering="false"]', WAIT);
    // Tab order: the last filter, then the headers left to right.
    await page.focus("#filter-status");
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "verified");
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "onion");
    assert.equal(await sortOf("onion"), "none");

    await page.keyboard.press("Enter");
    await settled();
    assert.equal(await sortOf("onion"), "ascending");
    assert.equal(await sortOf("verified"), "none");
    const asc = (await rows(page)).map((r) => r.onion);
    assert.deepEqual(asc, [...initial].sort(), "Enter sorts by onion, ascending");
    assert.notDeepEqual(asc, initial, "the order changed");

    await page.keyboard.press("Space");
    await settled();
    assert.equal(await sortOf("onion"), "descending");
    const desc = (await rows(page)).map((r) => r.onion);
    assert.deepEqual(desc, [...asc].reverse(), "Space reverses it");
    assert.equal(await focused(), "onion", "focus stays on the header");

    // Shift+Tab back to Verified, Enter: back to the failures-first order.
    await page.keyboard.press("Shift+Tab");
    assert.equal(await focused(), "verified");
    await page.keyboard.press("Enter");
    await settled();
    assert.equal(await sortOf("verified"), "ascending");
    assert.deepEqual((await rows(page)).map((r) => r.onion), initial);
    await page.screenshot({ path: join(artifacts, "keyboard-sort.png"), fullPage: true });
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("keyboard: filter by typing and by the verdict select", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("tampered"));
    await ready(page);
    const count = () => page.$$eval('[data-testid="peer-row"]', (r) => r.length);
    const codes = [...bad.expect.values()];
    assert.equal(await count(), 12);
    await page.focus("#filter-text");
    await page.keyboard.type("expired");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="peer-row"]').length === 1, null, WAIT);
    assert.deepEqual((await rows(page)).map((r) => r.code), ["expired"]);
    assert.match(await page.textContent("#row-count"), /^1 of 12 peers$/);
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Backspace");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="peer-row"]').length === 12, null, WAIT);

    // Tab to the verdict select; the arrow keys change it without a mouse.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "filter-verdict");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.inputValue("#filter-verdict"), "pass");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="peer-row"]').length === n, codes.filter((c) => c === "ok").length, WAIT);
    assert.ok((await rows(page)).every((r) => r.verified === "true"));
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.inputValue("#filter-verdict"), "fail");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="peer-row"]').length === n, codes.filter((c) => c !== "ok").length, WAIT);
    assert.ok((await rows(page)).every((r) => r.verified === "false"));
    // Both filters at once: failures whose text mentions the signature.
    await page.focus("#filter-text");
    await page.keyboard.type("signature");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="peer-row"]').length === n, codes.filter((c) => c === "bad_signature").length, WAIT);
    assert.ok((await rows(page)).every((r) => r.code === "bad_signature"));
    await page.screenshot({ path: join(artifacts, "keyboard-filter.png"), fullPage: true });
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("all records invalid: a clear alert, nothing verified", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("invalid"));
    await ready(page);
    const got = await rows(page);
    assert.equal(got.length, invalid.peers.length);
    assert.ok(got.every((r) => r.verified === "false" && r.code === "bad_signature"));
    assert.match(await page.textContent("#banner"), /All 6 records failed verification/);
    await page.screenshot({ path: join(artifacts, "all-invalid.png"), fullPage: true });
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("a malformed list and an unreachable node: error states with reasons", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(params("malformed"));
    await page.waitForSelector('body[data-state="error"]', WAIT);
    assert.match(await page.textContent("#banner"), /malformed list — .+/);
    assert.equal(await page.getAttribute('[data-testid="source"]', "data-ok"), "false");
    assert.equal(await page.$$eval('[data-testid="peer-row"]', (r) => r.length), 0);
    await page.screenshot({ path: join(artifacts, "malformed.png"), fullPage: true });

    // A loopback port nothing listens on: the connection is refused. (Not a
    // well-known one such as 9: Chromium blocks those as unsafe ports before
    // connecting, which is another error.)
    const port = await closedPort();
    await page.fill("#urls", `127.0.0.1:${port}`);
    await page.click("#load");
    await page.waitForFunction(() => /Node unreachable/.test(document.getElementById("banner").textContent));
    await page.screenshot({ path: join(artifacts, "unreachable.png"), fullPage: true });
    // The only error allowed: Chromium's own line for the refused connection.
    assertNoUnexpectedErrors(errors, [refused(`http://127.0.0.1:${port}/v1/peers`)]);
    await page.close();
  });

  test("no source: the empty state invites a URL or a file", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage("");
    await page.waitForSelector('body[data-state="empty"]', WAIT);
    assert.match(await page.textContent("#banner"), /No peer list loaded/);
    assert.equal(await page.getAttribute('[data-testid="peer-graph"]', "data-node-count"), "0");
    await page.screenshot({ path: join(artifacts, "empty.png"), fullPage: true });
    // The only error allowed: the 404 of the same-origin /v1/peers probe (a static host is no node).
    assertNoUnexpectedErrors(errors, [notFound(`${site.url}/v1/peers`)]);
    await page.close();
  });

  test("served by a node: loads its own /v1/peers, live, with the node's min difficulty", { timeout: TEST_TIMEOUT }, async () => {
    const node = await staticServer(join(webDir, "dist"), {
      "/v1/peers": () => good,
      "/v1/status": () => ({ onion: good.source, network: "testnet", min_difficulty: 8, known_peers: 12 }),
    });
    try {
      const page = await browser.newPage();
      const errors = watchErrors(page);
      await page.goto(`${node.url}/`);
      await ready(page);
      assert.equal(await page.inputValue("#urls"), `${node.url}/v1/peers`);
      assert.equal(await page.inputValue("#min-difficulty"), "8");
      assert.equal(await page.isChecked("#live"), true);
      const got = await rows(page);
      assert.equal(got.length, 12);
      assert.ok(got.every((r) => r.verified === "true"));
      assertNoUnexpectedErrors(errors);
      await page.close();
    } finally {
      node.server.close();
    }
  });

  test("a list opened from a file and one pasted are verified too", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage("?live=0");
    await page.waitForSelector('body[data-state="empty"]', WAIT);
    await page.fill("#min-difficulty", "8");
    await page.setInputFiles("#file", { name: "tampered.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bad.list)) });
    await ready(page);
    assert.equal((await rows(page)).filter((r) => r.verified === "true").length, 5);
    assert.match(await page.textContent("#sources"), /file:tampered\.json/);

    await page.click("#paste-toggle");
    await page.fill("#paste", JSON.stringify(good));
    await page.click("#paste-verify");
    await page.waitForFunction(() => document.querySelector('[data-testid="summary"]').dataset.verified === "12");
    await ready(page);
    assert.ok((await rows(page)).every((r) => r.verified === "true"));
    // The only error allowed: the 404 of the same-origin /v1/peers probe (a static host is no node).
    assertNoUnexpectedErrors(errors, [notFound(`${site.url}/v1/peers`)]);
    await page.close();
  });

  test("binary protobuf from the node decodes and verifies the same", { timeout: TEST_TIMEOUT, skip: !torpeer && "needs the package's Node build to encode" }, async () => {
    const { page, errors } = await openPage(`${params("tampered")}&format=binary`);
    await ready(page);
    const got = await rows(page);
    assert.equal(got.length, 12);
    for (const row of got) assert.equal(row.code, bad.expect.get(row.onion));
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("two nodes at once: lists merge into one graph", { timeout: TEST_TIMEOUT }, async () => {
    const { page, errors } = await openPage(`?src=${encodeURIComponent(`${api.url}/good/v1/peers ${api.url}/tampered/v1/peers`)}&minDifficulty=8`);
    await ready(page);
    assert.equal((await rows(page)).length, 24);
    assert.equal(await page.$$eval('[data-testid="source"][data-ok="true"]', (l) => l.length), 2);
    assert.equal(Number(await page.getAttribute('[data-testid="peer-graph"]', "data-node-count")), expectedNodes(good) + expectedNodes(bad.list));
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test("live refresh picks up peers as the node learns them", { timeout: TEST_TIMEOUT }, async () => {
    const growing = network({ count: 10, now, salt: "live" });
    let served = 3;
    api.lists.set("live", () => ({ ...growing, peers: growing.peers.slice(0, Math.min(served++, 10)) }));
    const { page, errors } = await openPage(`${params("live")}&live=1&interval=1`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="peer-row"]').length >= 3, null, WAIT);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="peer-row"]').length === 10, null, WAIT);
    assert.ok(api.hits.get("live") >= 8);
    assert.ok((await rows(page)).every((r) => r.verified === "true"));
    await page.uncheck("#live");
    assertNoUnexpectedErrors(errors);
    await page.close();
  });

  test(`${BIG} peers: verified in the worker and drawn; timings recorded`, { timeout: TEST_TIMEOUT }, async () => {
    const t0 = performance.now();
    const big = network({ count: BIG, now, salt: "big", difficulty: 4 });
    const signMs = performance.now() - t0;
    api.lists.set("big", big);
    const { page, errors } = await openPage(`?src=${encodeURIComponent(`${api.url}/big/v1/peers`)}&minDifficulty=4&live=0`);
    await ready(page);
    await page.waitForSelector('[data-testid="peer-graph"][data-layout="done"]', WAIT);
    assert.equal(await page.$$eval('[data-testid="peer-row"][data-verified="true"]', (r) => r.length), BIG);
    assert.equal(Number(await page.getAttribute('[data-testid="peer-graph"]', "data-node-count")), BIG + 1);
    const figures = await page.evaluate(() => {
      const m = (name) => performance.getEntriesByName(name, "measure")[0]?.duration ?? null;
      const longtasks = window.__longtasks;
      return {
        timeToVerifiedMs: m("tp:time-to-verified"),
        timeToFirstDrawMs: m("tp:time-to-first-draw"),
        timeToAllRowsMs: m("tp:time-to-rows"),
        timeToLayoutDoneMs: m("tp:time-to-layout-done"),
        workerVerifyMs: Number(document.body.dataset.verifyMs),
        longestTaskMs: longtasks.length ? Math.max(...longtasks) : 0,
        longTasks: longtasks.length,
      };
    });
    figures.peers = BIG;
    figures.fixtureSignMs = Math.round(signMs);
    await page.screenshot({ path: join(artifacts, `big-${BIG}.png`) });
    writeFileSync(join(artifacts, "bench.json"), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`dashboard bench: ${JSON.stringify(figures)}`);
    assert.ok(figures.timeToVerifiedMs > 0 && figures.timeToFirstDrawMs >= figures.timeToVerifiedMs);
    assertNoUnexpectedErrors(errors);
    await page.close();
  });
});
