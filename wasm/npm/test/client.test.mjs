// Tests of `torpeer/client` (the local-API client in the packed package)
// against real `torpeer run` nodes on loopback TCP: a router, and two
// participants A and B that meet through it. TORPEER_BIN is the native
// binary (scripts/ci/50-wasm-npm.sh builds it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { connect, SseParser, TorPeerApiError, toBase64, fromBase64 } from "torpeer/client";

const BIN = process.env.TORPEER_BIN;
assert.ok(BIN, "set TORPEER_BIN to the native torpeer binary");
// Generous: machines are noisy. Tests poll; they never sleep a fixed time.
const WAIT_MS = 90_000;
const MAX_MESSAGE = 4096;

const root = mkdtempSync(join(tmpdir(), "torpeer-client-"));
const children = [];

/** Poll `f` until it returns something other than undefined. */
async function until(what, f) {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Start `torpeer run` on loopback; resolves to { url, token, onion, contact }. */
async function startNode(name, role, bootstrap = []) {
  const dataDir = join(root, name);
  const config = join(root, `${name}.toml`);
  writeFileSync(config, `[node]\nmax_message_len = ${MAX_MESSAGE}\n`);
  const args = ["run", "--config", config, "--transport", "tcp", "--listen", "127.0.0.1:0",
    "--http", "127.0.0.1:0", "--network", "npmtest", "--difficulty", "8", "--role", role,
    "--data-dir", dataDir];
  for (const b of bootstrap) args.push("--bootstrap", b);
  const log = openSync(join(root, `${name}.log`), "w");
  const child = spawn(BIN, args, { stdio: ["ignore", "ignore", log], env: { ...process.env, RUST_LOG: "info" } });
  children.push(child);
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const addrFile = join(dataDir, "http.addr");
  const http = await until(`${name} to start`, () => {
    if (exited !== null) throw new Error(`${name} exited with ${exited}: ${readFileSync(join(root, `${name}.log`), "utf8")}`);
    return existsSync(addrFile) ? readFileSync(addrFile, "utf8").trim() || undefined : undefined;
  });
  const url = `http://${http}`;
  const status = await (await fetch(`${url}/v1/status`)).json();
  return {
    url,
    token: readFileSync(join(dataDir, "api.token"), "utf8").trim(),
    onion: status.onion,
    contact: `${status.onion}@${status.listen}`,
  };
}

/** The next event for which `pick` returns something, from an iterator. */
async function nextMatching(events, what, pick) {
  // The deadline timer is cancelled once an event matched: a pending
  // 90 s timer would keep Node's event loop, and so `node --test`, alive
  // long after the last test.
  const cancel = new AbortController();
  const timer = sleep(WAIT_MS, undefined, { signal: cancel.signal }).then(
    () => {
      throw new Error(`timed out waiting for ${what}`);
    },
    () => undefined,
  );
  const found = (async () => {
    for (;;) {
      const { value, done } = await events.next();
      if (done) throw new Error(`event stream ended before ${what}`);
      const v = pick(value);
      if (v !== undefined) return v;
    }
  })();
  try {
    return await Promise.race([found, timer]);
  } finally {
    cancel.abort();
  }
}

async function rejectsWith(promise, code, status) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof TorPeerApiError, `a TorPeerApiError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal(e.status, status);
    assert.ok(e.message.length > 0);
    return true;
  });
}

let router, a, b, clientA, clientB, eventsB;

before(async () => {
  router = await startNode("router", "router");
  b = await startNode("b", "participant", [router.contact]);
  clientB = await connect(b.url, b.token);
  // Subscribe before A exists, so B's stream must show A arriving.
  eventsB = clientB.events();
  await eventsB.opened;
  a = await startNode("a", "participant", [router.contact]);
  clientA = await connect(`${a.url}/`, `${a.token}\n`);
});

after(async () => {
  // Stop the nodes first: that ends B's event stream from the server side,
  // so closing it cannot wait on a stream nobody will end (it hung here).
  for (const c of children) c.kill("SIGTERM");
  await Promise.race([eventsB?.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
  await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on("exit", r)))));
  rmSync(root, { recursive: true, force: true });
});

test("connect reads the node's identity", () => {
  assert.equal(clientA.onion, a.onion);
  assert.equal(clientA.role, "participant");
  assert.equal(clientA.network, "npmtest");
  assert.equal(clientA.url, a.url, "trailing slash dropped");
});

test("B's event stream shows A come online, then A's message with its bytes", async () => {
  await nextMatching(eventsB, "A online at B", (ev) =>
    ev.type === "peer" && ev.onion === a.onion && ev.status === "online" ? true : undefined,
  );
  const payload = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
  const result = await until("A to accept the message", async () => {
    try {
      return await clientA.send(b.onion, payload);
    } catch (e) {
      if (e instanceof TorPeerApiError && ["unknown_peer", "peer_offline", "queue_full"].includes(e.code)) return undefined;
      throw e;
    }
  });
  assert.deepEqual(result, { queued: true, to: b.onion });
  const got = await nextMatching(eventsB, "A's message", (ev) => (ev.type === "message" ? ev : undefined));
  assert.equal(got.from, a.onion);
  assert.ok(got.data instanceof Uint8Array);
  assert.deepEqual([...got.data], [...payload]);

  // Strings go as UTF-8.
  await clientA.send(b.onion, "grüße ✓");
  const text = await nextMatching(eventsB, "A's text", (ev) => (ev.type === "message" ? ev : undefined));
  assert.equal(new TextDecoder().decode(text.data), "grüße ✓");
});

test("peers() is B's table, with filters", async () => {
  const peers = await clientB.peers();
  const byOnion = Object.fromEntries(peers.map((p) => [p.onion, p]));
  assert.ok(!(b.onion in byOnion), "the node's own entry is left out");
  assert.equal(byOnion[a.onion]?.role, "participant", JSON.stringify(peers));
  assert.equal(byOnion[a.onion].status, "online");
  assert.equal(byOnion[router.onion]?.role, "router");
  assert.equal(byOnion[a.onion].record.onion, a.onion);
  const routers = await clientB.peers({ role: "router" });
  assert.deepEqual(routers.map((p) => p.onion), [router.onion]);
  assert.equal((await clientB.peers({ max: 1 })).length, 1);
  const list = await clientB.peerList({ online: true });
  assert.equal(list.peers[0].record.onion, b.onion, "the raw list starts with the node itself");
  const status = await clientB.status();
  assert.equal(status.onion, b.onion);
  assert.ok(status.messages_received >= 2);
});

test("a wrong token is refused with 401 and sends nothing", async () => {
  const before = (await clientB.status()).messages_received;
  const impostor = await connect(a.url, b.token); // B's token on A's API
  await rejectsWith(impostor.send(b.onion, "forged"), "unauthorized", 401);
  const stream = impostor.events();
  await rejectsWith(stream.next(), "unauthorized", 401);
  // A real message afterwards arrives, and it is the only new one.
  await clientA.send(b.onion, "after the impostor");
  const got = await nextMatching(eventsB, "the genuine message", (ev) => (ev.type === "message" ? ev : undefined));
  assert.equal(new TextDecoder().decode(got.data), "after the impostor");
  assert.equal((await clientB.status()).messages_received, before + 1);
});

test("limits and refusals come back as typed errors, and the node keeps serving", async () => {
  await rejectsWith(clientA.send(b.onion, new Uint8Array(MAX_MESSAGE + 1)), "too_large", 413);
  await rejectsWith(clientA.send(router.onion, "hi"), "router_refuses", 403);
  await rejectsWith(clientA.send("nope.onion", "hi"), "bad_address", 400);
  const stranger = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion";
  await rejectsWith(clientA.send(stranger, "hi"), "unknown_peer", 404);
  const routerClient = await connect(router.url, router.token);
  await rejectsWith(routerClient.send(a.onion, "hi"), "local_is_router", 403);
  // Exactly at the limit is fine.
  await clientA.send(b.onion, new Uint8Array(MAX_MESSAGE));
  const got = await nextMatching(eventsB, "the largest message", (ev) => (ev.type === "message" ? ev : undefined));
  assert.equal(got.data.length, MAX_MESSAGE);
});

test("breaking out of the iterator or aborting closes the stream", async () => {
  const controller = new AbortController();
  const stream = clientA.events({ signal: controller.signal });
  const pending = stream.next();
  controller.abort();
  assert.deepEqual(await pending, { value: undefined, done: true });
  // for-await with break returns promptly too.
  const second = clientA.events();
  // The node subscribes a stream when it answers the request: a message
  // sent before that is not this stream's to see, so wait for the answer.
  await second.opened;
  await until("B's message to A", async () => {
    try {
      return await clientB.send(a.onion, "to a");
    } catch (e) {
      if (e instanceof TorPeerApiError && ["peer_offline", "queue_full"].includes(e.code)) return undefined;
      throw e;
    }
  });
  const deadline = setTimeout(() => second.close(), WAIT_MS);
  let seen;
  try {
    for await (const ev of second) {
      if (ev.type === "message") {
        seen = ev;
        break;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  assert.ok(seen, "A's stream ended without B's message");
  assert.equal(seen.from, b.onion);
  assert.deepEqual(await second.next(), { value: undefined, done: true });
});

test("connect refuses bad arguments and unreachable nodes", async () => {
  await assert.rejects(connect("127.0.0.1:1", "t"), TypeError);
  await assert.rejects(connect(a.url, ""), TypeError);
  await rejectsWith(connect("http://127.0.0.1:1", "t"), "network", 0);
});

test("SSE parser: line endings, chunk boundaries, multi-line data, comments, BOM", () => {
  const p = new SseParser();
  assert.deepEqual(p.push("\ufeff: connected\n\n"), []);
  assert.deepEqual(p.push("event: peer\r\ndata: {\"a\":"), []);
  assert.deepEqual(p.push("1}\r\n\r"), [{ type: "peer", data: "{\"a\":1}" }]);
  // The LF after the CR above is part of that line ending, not a blank line.
  assert.deepEqual(p.push("\ndata: x\rdata: y\r\r"), [{ type: "message", data: "x\ny" }]);
  assert.deepEqual(p.push("data:no space\n\nevent: lonely\n\n"), [{ type: "message", data: "no space" }]);
  // An event type without data dispatches nothing and does not stick.
  assert.deepEqual(p.push("data: z\n\n"), [{ type: "message", data: "z" }]);
  assert.deepEqual(p.push("id: 7\nretry: 10\ndata\n\n"), [{ type: "message", data: "" }]);
});

test("base64 helpers round-trip large payloads", () => {
  const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
  assert.deepEqual(fromBase64(toBase64(big)), big);
  assert.equal(toBase64(new TextEncoder().encode("hello")), "aGVsbG8=");
  assert.throws(() => fromBase64("***"), (e) => e.code === "bad_base64");
});
