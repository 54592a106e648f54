// Peer lists for the browser tests, made fresh at test time (records expire
// after 24 h, so committed lists would rot). The shape of each network is
// deterministic; the keys are fresh each run.
import { identity, networkId, signedRecord } from "./records.mjs";
import { createHash } from "node:crypto";

export const NETWORK = "testnet";
/** Low so thousands of records sign in seconds; the page is told `minDifficulty=8`. */
export const DIFFICULTY = 8;

/** Deterministic small pseudo-random numbers, so every run draws the same network. */
function rand(i, salt) {
  return createHash("sha256").update(`${salt}:${i}`).digest().readUInt32BE(0);
}

/**
 * A PeerList as a node would serve it: `count` peers, the source node itself
 * not among them (a node does not list itself), the first few met directly
 * and the rest learned from an earlier peer, so the graph is a tree of
 * "who told whom". Every 5th peer is a router, every 7th offline.
 */
export function network({ count, now, salt = "dashboard", difficulty = DIFFICULTY }) {
  const source = identity(0, salt);
  const ids = [];
  const peers = [];
  for (let i = 1; i <= count; i++) {
    const id = identity(i, salt);
    ids.push(id);
    const role = i % 5 === 0 ? "ROLE_ROUTER" : "ROLE_PARTICIPANT";
    const issuedAt = now - (rand(i, `${salt}:age`) % 20000);
    const record = signedRecord(id, { network: NETWORK, role, ports: role === "ROLE_ROUTER" ? [] : [80], issuedAt, difficulty });
    const offline = i % 7 === 0;
    const entry = { record, status: offline ? "PEER_STATUS_OFFLINE" : "PEER_STATUS_ONLINE" };
    if (!offline) entry.lastSeen = String(now - (rand(i, `${salt}:seen`) % 300));
    if (i > 3) entry.learnedFrom = ids[rand(i, `${salt}:from`) % (i - 1)].onion;
    peers.push(entry);
  }
  return { network: NETWORK, source: source.onion, generatedAt: String(now), peers };
}

function leadingZeros(netId, pubkey, nonce) {
  const input = Buffer.alloc(88);
  input.set(new TextEncoder().encode("torpeer pow v1\0\0"), 0);
  input.set(netId, 16);
  input.set(pubkey, 48);
  input.writeBigUInt64LE(BigInt(nonce), 80);
  const hash = createHash("sha3-256").update(input).digest();
  let n = 0;
  for (const b of hash) {
    if (b === 0) n += 8;
    else return n + Math.clz32(b) - 24;
  }
  return n;
}

/**
 * The 12-peer network with seven entries broken, one per reason code the
 * verifier can give a well-formed list. Returns the list and, per onion, the
 * code the wasm verifier must report.
 */
export function tampered({ now, salt = "tampered" }) {
  const list = network({ count: 12, now, salt });
  const expect = new Map(list.peers.map((e) => [e.record.onion, "ok"]));
  const at = (i) => list.peers[i];

  // 1: a signed field changed after signing.
  at(1).record.ports = [8080];
  expect.set(at(1).record.onion, "bad_signature");

  // 2: a nonce that does not meet the claimed difficulty (checked before the signature).
  const id2 = identity(3, salt);
  let nonce = BigInt(at(2).record.powNonce) + 1n;
  while (leadingZeros(networkId(NETWORK), id2.pubkey, nonce) >= DIFFICULTY) nonce++;
  at(2).record.powNonce = String(nonce);
  expect.set(at(2).record.onion, "bad_pow");

  // 3: correctly signed, for another network.
  const id4 = identity(4, salt);
  at(3).record = signedRecord(id4, { network: "othernet", issuedAt: now - 60, difficulty: DIFFICULTY });
  expect.set(at(3).record.onion, "wrong_network");

  // 4: correctly signed two days ago (TTL is 24 h).
  const id5 = identity(5, salt);
  at(4).record = signedRecord(id5, { network: NETWORK, role: "ROLE_ROUTER", issuedAt: now - 2 * 86400, difficulty: DIFFICULTY });
  expect.set(at(4).record.onion, "expired");

  // 5: correctly signed one hour in the future (skew allowed: 10 min).
  const id6 = identity(6, salt);
  at(5).record = signedRecord(id6, { network: NETWORK, issuedAt: now + 3600, difficulty: DIFFICULTY });
  expect.set(at(5).record.onion, "from_future");

  // 6: one character of the address changed, so its checksum fails.
  const bad = at(6).record.onion;
  expect.delete(bad);
  const swapped = (bad[0] === "a" ? "b" : "a") + bad.slice(1);
  at(6).record.onion = swapped;
  expect.set(swapped, "malformed_address");

  // 7: another record's signature.
  const victim = at(7).record.onion;
  at(7).record.signature = at(8).record.signature;
  expect.set(victim, "bad_signature");

  return { list, expect };
}

/** Every record's signature broken: nothing may show as verified. */
export function allInvalid({ now }) {
  const list = network({ count: 6, now, salt: "all-invalid" });
  for (const entry of list.peers) {
    const sig = Buffer.from(entry.record.signature, "base64");
    sig[10] ^= 0x40;
    entry.record.signature = sig.toString("base64");
  }
  return list;
}

