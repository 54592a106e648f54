// Tests of the packed `torpeer` npm package, installed from its tarball into
// this scratch project. Records come from the native CLI (TORPEER_BIN, the
// `torpeer` binary): what the Rust node signs, the wasm build must accept,
// and the same tampering must be refused for the same reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import * as torpeer from "torpeer";

const {
  decodePeerList,
  decodeRecord,
  encodePeerList,
  encodeRecord,
  networkDefaults,
  parseOnion,
  solvePow,
  verifyPeerList,
  verifyPow,
  verifyRecord,
} = torpeer;

const BIN = process.env.TORPEER_BIN;
assert.ok(BIN, "set TORPEER_BIN to the native torpeer binary");
// Low enough for a quick keygen, so tests pass it as minDifficulty.
const DIFFICULTY = 12;
const OPTS = { minDifficulty: DIFFICULTY };

function cli(args, encoding = "utf8") {
  return execFileSync(BIN, args, { encoding, stdio: ["ignore", "pipe", "pipe"] });
}

/** A fresh HiddenServiceDir with a key and a solved proof-of-work. */
function keygen(network = "torpeer") {
  const dir = join(mkdtempSync(join(tmpdir(), "torpeer-npm-")), "hs");
  cli(["keygen", "--hs-dir", dir, "--difficulty", String(DIFFICULTY), "--network", network]);
  return dir;
}

/** `torpeer record sign` output: proto3 JSON text (or binary with --binary). */
function sign(dir, extra = []) {
  return cli(["record", "sign", "--hs-dir", dir, ...extra]);
}

const alice = keygen();
const bob = keygen();
const aliceJson = sign(alice, ["--port", "80", "--port", "443"]);
const aliceRecord = JSON.parse(aliceJson);
const bobRecord = JSON.parse(sign(bob, ["--role", "router"]));
const issuedAt = Number(aliceRecord.issuedAt);

function codeOf(record, options = OPTS) {
  return verifyRecord(record, options).code;
}

function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, "thrown value is an Error");
    assert.equal(e.code, code, `code of: ${e.message}`);
    assert.ok(e.message.length > 0);
    return true;
  });
}

test("records signed by the native CLI verify, as JSON text, object and binary", () => {
  assert.deepEqual(verifyRecord(aliceJson, OPTS), { ok: true, code: "ok", message: "record is valid" });
  assert.equal(codeOf(aliceRecord), "ok");
  assert.equal(codeOf(bobRecord), "ok");
  const fromCli = cli(["record", "sign", "--hs-dir", alice, "--binary"], "buffer");
  assert.ok(fromCli instanceof Uint8Array);
  assert.equal(codeOf(fromCli), "ok");
  assert.equal(codeOf(new Uint8Array(fromCli).buffer), "ok");
  // Binary and JSON are the same message.
  assert.deepEqual(decodeRecord(encodeRecord(aliceJson)), decodeRecord(aliceJson));
  assert.equal(codeOf(encodeRecord(aliceRecord)), "ok");
});

test("decoded records keep the proto3 JSON shape the CLI prints", () => {
  const decoded = decodeRecord(aliceJson);
  assert.deepEqual(decoded, aliceRecord);
  assert.deepEqual(decoded.ports, [80, 443]);
  assert.equal(decoded.role, "ROLE_PARTICIPANT");
  assert.equal(typeof decoded.powNonce, "string");
  assert.equal(decodeRecord(bobRecord.onion ? bobRecord : {}).role, "ROLE_ROUTER");
});

test("defaults: the CLI's network, its minimum difficulty, and the current time", () => {
  assert.deepEqual(networkDefaults(), {
    network: "torpeer",
    minDifficulty: 20,
    recordTtlSecs: 86400,
    maxFutureSkewSecs: 600,
  });
  // Just signed, so valid now; 12 bits are below the default network's 20.
  assert.equal(codeOf(aliceRecord, {}), "bad_pow");
  assert.equal(verifyRecord(aliceRecord).code, "bad_pow");
  assert.equal(codeOf(aliceRecord, { minDifficulty: DIFFICULTY, network: "torpeer" }), "ok");
});

test("records for another network verify only on that network", () => {
  const dir = keygen("testnet");
  const record = sign(dir, ["--network", "testnet", "--role", "router", "--port", "9000"]);
  assert.equal(codeOf(record, { ...OPTS, network: "testnet" }), "ok");
  assert.equal(codeOf(record, OPTS), "wrong_network");
  assert.equal(codeOf(aliceRecord, { ...OPTS, network: "testnet" }), "wrong_network");
});

test("tampered records are refused with the reason", () => {
  const tamper = (change) => {
    const r = structuredClone(aliceRecord);
    change(r);
    return codeOf(r);
  };
  assert.equal(tamper((r) => (r.sequence = String(BigInt(r.sequence) + 1n))), "bad_signature");
  assert.equal(tamper((r) => (r.ports = [80])), "bad_signature");
  assert.equal(tamper((r) => (r.role = "ROLE_ROUTER")), "bad_signature");
  assert.equal(
    tamper((r) => {
      const sig = Buffer.from(r.signature, "base64");
      sig[10] ^= 1;
      r.signature = sig.toString("base64");
    }),
    "bad_signature",
  );
  // Another signer's signature over this body.
  assert.equal(tamper((r) => (r.signature = bobRecord.signature)), "bad_signature");
  // A nonce that does not meet the difficulty: PoW is checked before the signature.
  let nonce = BigInt(aliceRecord.powNonce) + 1n;
  while (verifyPow({ onion: aliceRecord.onion, nonce, difficulty: DIFFICULTY })) nonce += 1n;
  assert.equal(tamper((r) => (r.powNonce = nonce.toString())), "bad_pow");
  // Claiming more work than was done.
  assert.equal(tamper((r) => (r.powDifficulty = 40)), "bad_pow");
  // Another key's address: its checksum still matches, so the address parses and the PoW fails.
  assert.notEqual(tamper((r) => (r.onion = bobRecord.onion)), "ok");
  // A typo in the address.
  const typo = aliceRecord.onion.startsWith("a") ? "b" : "a";
  assert.equal(tamper((r) => (r.onion = typo + r.onion.slice(1))), "malformed_address");
  assert.equal(tamper((r) => (r.onion = "nope.onion")), "malformed_address");
  assert.equal(tamper((r) => (r.network = "Not A Name")), "malformed");
  assert.equal(codeOf("{not json"), "invalid_json");
  assert.equal(codeOf(new Uint8Array([0xff, 0xff, 0xff])), "invalid_protobuf");
});

test("time window: expired after a day, refused from beyond ten minutes ahead", () => {
  const at = (now) => codeOf(aliceRecord, { ...OPTS, nowUnix: now });
  assert.equal(at(issuedAt), "ok");
  assert.equal(at(issuedAt + 86400), "ok");
  assert.equal(at(issuedAt + 86401), "expired");
  assert.equal(at(BigInt(issuedAt + 86401)), "expired");
  assert.equal(at(String(issuedAt + 86401)), "expired");
  assert.equal(at(issuedAt - 600), "ok");
  assert.equal(at(issuedAt - 601), "from_future");
  const old = sign(alice, ["--issued-at", String(issuedAt - 2 * 86400)]);
  assert.equal(codeOf(old), "expired");
  assert.equal(codeOf(old, { ...OPTS, nowUnix: issuedAt - 2 * 86400 }), "ok");
});

test("peer lists round-trip between JSON and binary and verify per entry", () => {
  const broken = structuredClone(bobRecord);
  broken.sequence = "7";
  const list = {
    network: "torpeer",
    source: aliceRecord.onion,
    generatedAt: String(issuedAt),
    peers: [
      { record: aliceRecord, status: "PEER_STATUS_ONLINE", lastSeen: String(issuedAt) },
      { record: bobRecord, status: "PEER_STATUS_OFFLINE", learnedFrom: aliceRecord.onion },
      { record: broken },
      { status: "PEER_STATUS_UNKNOWN", lastSeen: "18446744073709551615" },
    ],
  };
  const binary = encodePeerList(list);
  assert.ok(binary instanceof Uint8Array);
  const fromBinary = decodePeerList(binary);
  const fromJson = decodePeerList(JSON.stringify(list));
  assert.deepEqual(fromBinary, fromJson);
  // Default-valued fields (PEER_STATUS_UNKNOWN) are left out, as proto3 JSON does.
  const expected = structuredClone(list);
  delete expected.peers[3].status;
  assert.deepEqual(fromBinary, expected);
  assert.equal(fromBinary.peers[3].lastSeen, "18446744073709551615");
  // Binary → JSON → binary is byte-identical.
  assert.deepEqual(encodePeerList(JSON.stringify(fromBinary)), binary);
  assert.deepEqual(encodePeerList(fromBinary), binary);

  for (const input of [list, JSON.stringify(list), binary]) {
    const verdicts = verifyPeerList(input, OPTS);
    assert.deepEqual(
      verdicts.map((v) => [v.ok, v.code]),
      [
        [true, "ok"],
        [true, "ok"],
        [false, "bad_signature"],
        [false, "malformed"],
      ],
    );
    assert.deepEqual(verdicts[0].record, aliceRecord);
    assert.deepEqual(verdicts[1].record, bobRecord);
    assert.equal(verdicts[3].record, null);
  }
  assert.deepEqual(
    verifyPeerList(binary, { ...OPTS, network: "other" }).map((v) => v.code),
    ["wrong_network", "wrong_network", "wrong_network", "malformed"],
  );
  assert.deepEqual(decodePeerList("{}"), {});
});

test("onion addresses: parse, canonical form, key, and coded errors", () => {
  const parsed = parseOnion(aliceRecord.onion);
  assert.equal(parsed.onion, aliceRecord.onion);
  assert.deepEqual(parseOnion(aliceRecord.onion.replace(/\.onion$/, "")), parsed);
  assert.match(parsed.publicKey, /^[0-9a-f]{64}$/);
  // The key is the first 32 bytes of the base32 body.
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = "";
  for (const c of parsed.onion.slice(0, 56)) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = [...Array(32).keys()].map((i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2).toString(16).padStart(2, "0"));
  assert.equal(parsed.publicKey, key.join(""));
  const known = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion";
  assert.equal(parseOnion(known).onion, known);
  throwsCode(() => parseOnion("nope"), "onion_length");
  throwsCode(() => parseOnion(known.slice(0, 56).toUpperCase() + ".onion"), "onion_not_lowercase");
  throwsCode(() => parseOnion(known.replace("duck", "duc1")), "onion_invalid_character");
  throwsCode(() => parseOnion(known.replace("duck", "duca")), "onion_checksum");
  throwsCode(() => parseOnion(42), "invalid_argument");
  throwsCode(() => parseOnion(), "invalid_argument");
});

test("proof-of-work: solve, verify, nonce forms, and coded errors", () => {
  const { onion } = aliceRecord;
  const solved = solvePow({ onion, difficulty: 10 });
  assert.equal(typeof solved.nonce, "string");
  assert.equal(solved.hashes, Number(solved.nonce) + 1);
  for (const nonce of [solved.nonce, Number(solved.nonce), BigInt(solved.nonce)]) {
    assert.equal(verifyPow({ onion, nonce, difficulty: 10 }), true);
  }
  assert.equal(verifyPow({ onion, nonce: aliceRecord.powNonce, difficulty: DIFFICULTY }), true);
  // Bound to the network: the same nonce is (almost surely) no proof elsewhere.
  const other = solvePow({ onion, difficulty: 10, network: "other" });
  assert.equal(verifyPow({ onion, nonce: other.nonce, difficulty: 10, network: "other" }), true);
  assert.equal(verifyPow({ onion, nonce: "18446744073709551615", difficulty: 0 }), true);
  throwsCode(() => verifyPow({ onion, nonce: "18446744073709551616", difficulty: 1 }), "invalid_argument");
  throwsCode(() => verifyPow({ onion, nonce: -1, difficulty: 1 }), "invalid_argument");
  throwsCode(() => verifyPow({ onion, nonce: 1.5, difficulty: 1 }), "invalid_argument");
  throwsCode(() => verifyPow({ onion, nonce: 2 ** 60, difficulty: 1 }), "invalid_argument");
  throwsCode(() => verifyPow({ onion, nonce: 1, difficulty: 65 }), "pow_difficulty_too_high");
  throwsCode(() => verifyPow({ onion: "x", nonce: 1, difficulty: 1 }), "onion_length");
  throwsCode(() => verifyPow(null), "invalid_argument");
  throwsCode(() => solvePow({ onion, difficulty: 40, maxHashes: 1000 }), "pow_not_found");
  throwsCode(() => solvePow({ onion, difficulty: 8, network: "UPPER" }), "invalid_network");
});

test("bad arguments throw coded Errors, never crash the module", () => {
  throwsCode(() => verifyRecord(aliceRecord, { network: "Bad Name" }), "invalid_network");
  throwsCode(() => verifyRecord(aliceRecord, { network: 7 }), "invalid_argument");
  throwsCode(() => verifyRecord(aliceRecord, { nowUnix: -5 }), "invalid_argument");
  throwsCode(() => verifyRecord(aliceRecord, { minDifficulty: 99 }), "pow_difficulty_too_high");
  throwsCode(() => verifyRecord(aliceRecord, "torpeer"), "invalid_argument");
  throwsCode(() => verifyRecord(42), "invalid_argument");
  throwsCode(() => verifyRecord([aliceRecord]), "invalid_argument");
  throwsCode(() => decodePeerList("{oops"), "invalid_json");
  throwsCode(() => decodePeerList(new Uint8Array([0xff, 0xff])), "invalid_protobuf");
  throwsCode(() => decodePeerList({ peers: "many" }), "invalid_json");
  throwsCode(() => decodePeerList({ generatedAt: 1n }), "invalid_json");
  throwsCode(() => verifyPeerList(new Uint8Array(2 << 20)), "input_too_large");
  // The module still works after all of that.
  assert.equal(codeOf(aliceRecord), "ok");
});

test("CommonJS require gets the same Node build", () => {
  const require = createRequire(import.meta.url);
  const cjs = require("torpeer");
  assert.equal(cjs.verifyRecord, verifyRecord);
  assert.equal(cjs.verifyRecord(aliceJson, OPTS).code, "ok");
});

test("the no-bundler web build works after initSync", async () => {
  const require = createRequire(import.meta.url);
  const webJs = require.resolve("torpeer/web");
  const web = await import(webJs);
  web.initSync({ module: readFileSync(join(dirname(webJs), "torpeer_bg.wasm")) });
  assert.equal(web.verifyRecord(aliceJson, OPTS).code, "ok");
  assert.equal(web.verifyRecord(aliceJson, { ...OPTS, nowUnix: issuedAt + 86401 }).code, "expired");
});
