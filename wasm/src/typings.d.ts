/** Role of a node, as proto3 JSON spells the enum. */
export type Role = "ROLE_UNSPECIFIED" | "ROLE_PARTICIPANT" | "ROLE_ROUTER";

/** How the sender of a list sees a peer. */
export type PeerStatus = "PEER_STATUS_UNKNOWN" | "PEER_STATUS_ONLINE" | "PEER_STATUS_OFFLINE";

/**
 * A signed peer record in the canonical proto3 JSON shape.
 *
 * Fields equal to their default (0, "", [], ROLE_UNSPECIFIED) are left out,
 * as proto3 JSON does. 64-bit integers are decimal strings so they survive
 * JavaScript numbers; when giving a record, numbers are accepted too.
 */
export interface PeerRecord {
  /** v3 onion address: 56 lowercase base32 characters and ".onion". */
  onion?: string;
  /** Network name. */
  network?: string;
  role?: Role;
  /** Virtual ports served, 1..=65535, at most 8. */
  ports?: number[];
  /** Issue time, Unix seconds (u64 as a decimal string). */
  issuedAt?: string;
  /** Sequence number; higher replaces lower (u64 as a decimal string). */
  sequence?: string;
  /** Claimed proof-of-work difficulty, leading zero bits. */
  powDifficulty?: number;
  /** Proof-of-work nonce (u64 as a decimal string). */
  powNonce?: string;
  /** "IP:PORT" on the loopback test transport only. */
  tcpEndpoint?: string;
  /** Ed25519 signature, base64. */
  signature?: string;
}

/** A record with what the list's sender knows about the peer. */
export interface PeerEntry {
  record?: PeerRecord;
  status?: PeerStatus;
  /** Unix seconds of the last live connection (u64 as a decimal string). */
  lastSeen?: string;
  /** Onion address of the peer that told the sender about this one. */
  learnedFrom?: string;
}

/** The bootstrap peer list a node serves (GET /v1/peers). */
export interface PeerList {
  network?: string;
  /** Onion address of the node that produced the list. */
  source?: string;
  /** Unix seconds (u64 as a decimal string). */
  generatedAt?: string;
  peers?: PeerEntry[];
}

/** A message as proto3 JSON (text or object) or binary protobuf. */
export type MessageInput<T> = T | string | Uint8Array | ArrayBuffer;

/** A u64: a number up to Number.MAX_SAFE_INTEGER, a decimal string or a bigint. */
export type U64Input = number | string | bigint;

/** Codes a record verification can end with. */
export type VerifyCode =
  | "ok"
  | "malformed_address"
  | "malformed"
  | "wrong_network"
  | "expired"
  | "from_future"
  | "bad_pow"
  | "bad_signature"
  | "invalid_json"
  | "invalid_protobuf"
  | "input_too_large";

/** Codes of the errors the functions throw (`TorpeerError.code`). */
export type ErrorCode =
  | "invalid_argument"
  | "invalid_network"
  | "invalid_json"
  | "invalid_protobuf"
  | "input_too_large"
  | "onion_length"
  | "onion_not_lowercase"
  | "onion_invalid_character"
  | "onion_version"
  | "onion_checksum"
  | "onion_invalid_key"
  | "pow_difficulty_too_high"
  | "pow_not_found"
  | "internal";

/** Every error thrown by this package is an Error with a stable code. */
export interface TorpeerError extends Error {
  code: ErrorCode;
}

/** Outcome of verifying one record. */
export interface VerifyResult {
  ok: boolean;
  /** "ok" or a stable reason code. */
  code: VerifyCode;
  /** Human-readable explanation. */
  message: string;
}

/** Outcome for one entry of a peer list, with its decoded record. */
export interface PeerVerdict extends VerifyResult {
  /** The entry's record; null when the entry has none. */
  record: PeerRecord | null;
}

/** Options of the verify functions. */
export interface VerifyOptions {
  /** Network the records must be for; default "torpeer" (as the CLI). */
  network?: string;
  /** Verifier's time, Unix seconds; default Date.now() / 1000. */
  nowUnix?: U64Input;
  /** Least proof-of-work a record must have; default the network's (20). */
  minDifficulty?: number;
}

/** A proof-of-work to check. */
export interface PowQuery {
  onion: string;
  nonce: U64Input;
  difficulty: number;
  /** Default "torpeer". */
  network?: string;
}

/** A proof-of-work to find. */
export interface PowTask {
  onion: string;
  difficulty: number;
  /** Default "torpeer". */
  network?: string;
  /** Give up (error code "pow_not_found") after this many hashes. */
  maxHashes?: number;
}

/** A solved proof-of-work. */
export interface PowSolution {
  /** The nonce, as a decimal string (it is a u64). */
  nonce: string;
  /** Hashes computed to find it. */
  hashes: number;
}

/** A parsed onion address. */
export interface ParsedOnion {
  /** Canonical spelling, with ".onion". */
  onion: string;
  /** The ed25519 public key, 64 lowercase hex digits. */
  publicKey: string;
}

/** Parameters of the default network, as the CLI uses them. */
export interface NetworkDefaults {
  network: string;
  minDifficulty: number;
  recordTtlSecs: number;
  maxFutureSkewSecs: number;
}
