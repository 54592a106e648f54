// Signed TorPeer peer records for the dashboard's tests, made in plain
// Node.js (crypto's Ed25519 and SHA3-256) from PROTOCOL.md §1–§4.
//
// Why not the `torpeer` CLI: a 5,000-peer list would take 10,000 process
// starts; and why not the npm package: it verifies but does not sign. The
// layouts here are checked against the CLI (tests/records.test.mjs runs
// `torpeer record verify` on them when the binary is built), and every list
// the browser tests use is then verified by the real wasm package — so a
// drift between this file and the protocol shows up as a failing test, never
// as a silently "verified" fixture.
import { createHash, generateKeyPairSync, sign } from "node:crypto";

const enc = new TextEncoder();
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

function sha3(...parts) {
  const h = createHash("sha3-256");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 4648 base32, lower case, no padding (35 bytes → 56 characters). */
function base32(bytes) {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** v3 onion address of an ed25519 public key (rend-spec-v3 §6). */
export function onionOf(pubkey) {
  const version = Buffer.from([3]);
  const checksum = sha3(enc.encode(".onion checksum"), pubkey, version).subarray(0, 2);
  return `${base32(Buffer.concat([pubkey, checksum, version]))}.onion`;
}

/** network_id = SHA3-256("torpeer network id v1\0" ‖ name). */
export function networkId(name) {
  return sha3(enc.encode("torpeer network id v1\0"), enc.encode(name));
}

const POW_PREFIX = enc.encode("torpeer pow v1\0\0");

function leadingZeroBits(hash) {
  let n = 0;
  for (const byte of hash) {
    if (byte === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

/** Smallest nonce whose PoW hash has ≥ difficulty leading zero bits. */
export function solvePow(netId, pubkey, difficulty) {
  const input = Buffer.alloc(88);
  input.set(POW_PREFIX, 0);
  input.set(netId, 16);
  input.set(pubkey, 48);
  for (let nonce = 0n; ; nonce++) {
    input.writeBigUInt64LE(nonce, 80);
    if (leadingZeroBits(sha3(input)) >= difficulty) return nonce;
  }
}

const identities = new Map();

/**
 * The identity number `index` of a fixture family. Keys are fresh random
 * ed25519 keys (OpenSSL imports a given seed ten times slower than it makes a
 * key, which matters at 5,000 peers), remembered per (salt, index) so a test
 * can re-sign "the same peer" differently.
 */
export function identity(index, salt = "dashboard") {
  const name = `${salt}:${index}`;
  let id = identities.get(name);
  if (!id) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pubkey = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
    id = { key: privateKey, pubkey, onion: onionOf(pubkey) };
    identities.set(name, id);
  }
  return id;
}

const ROLE_BYTE = { ROLE_PARTICIPANT: 1, ROLE_ROUTER: 2 };

/** Canonical signed bytes of a record (PROTOCOL.md §4). */
export function canonicalBytes(netId, pubkey, r) {
  const endpoint = enc.encode(r.tcpEndpoint ?? "");
  const ports = r.ports ?? [];
  const buf = Buffer.alloc(1 + 32 + 32 + 1 + 8 + 8 + 1 + 8 + 1 + 2 * ports.length + 1 + endpoint.length);
  let o = 0;
  buf[o++] = 1;
  buf.set(netId, o);
  o += 32;
  buf.set(pubkey, o);
  o += 32;
  buf[o++] = ROLE_BYTE[r.role];
  buf.writeBigUInt64BE(BigInt(r.issuedAt), o);
  o += 8;
  buf.writeBigUInt64BE(BigInt(r.sequence), o);
  o += 8;
  buf[o++] = r.powDifficulty;
  buf.writeBigUInt64BE(BigInt(r.powNonce), o);
  o += 8;
  buf[o++] = ports.length;
  for (const p of ports) {
    buf.writeUInt16BE(p, o);
    o += 2;
  }
  buf[o++] = endpoint.length;
  buf.set(endpoint, o);
  return buf;
}

const SIG_CONTEXT = enc.encode("torpeer record signature v1\0");

/**
 * A signed PeerRecord in proto3 JSON shape (defaults left out, u64 as
 * strings, signature base64), like `torpeer record sign` prints.
 */
export function signedRecord(id, { network, role = "ROLE_PARTICIPANT", ports = [], issuedAt, sequence, difficulty, nonce, tcpEndpoint }) {
  const netId = networkId(network);
  const powNonce = nonce ?? solvePow(netId, id.pubkey, difficulty);
  const fields = {
    role,
    ports,
    issuedAt: String(issuedAt),
    sequence: String(sequence ?? issuedAt),
    powDifficulty: difficulty,
    powNonce: String(powNonce),
    tcpEndpoint,
  };
  const signature = sign(null, Buffer.concat([SIG_CONTEXT, canonicalBytes(netId, id.pubkey, fields)]), id.key);
  const record = { onion: id.onion, network, role };
  if (ports.length) record.ports = ports;
  if (fields.issuedAt !== "0") record.issuedAt = fields.issuedAt;
  if (fields.sequence !== "0") record.sequence = fields.sequence;
  if (difficulty) record.powDifficulty = difficulty;
  if (fields.powNonce !== "0") record.powNonce = fields.powNonce;
  if (tcpEndpoint) record.tcpEndpoint = tcpEndpoint;
  record.signature = signature.toString("base64");
  return record;
}
