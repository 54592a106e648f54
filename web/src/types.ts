// Shapes shared by the page and the verification worker. Everything that
// crosses postMessage is plain data (structured-clone friendly).

/** One input to verify: a fetched node response or a dropped/pasted file. */
export interface SourceInput {
  /** Stable id of the input (its URL, or "file:NAME"). */
  id: string;
  /** Proto3 JSON text, or binary protobuf bytes. */
  data: string | Uint8Array;
}

/** What the verifier is told to check against. */
export interface VerifyParams {
  /** Network the records must be for; empty = each list's own `network`. */
  network: string;
  /** Least PoW difficulty; null = the package's default for the network. */
  minDifficulty: number | null;
  /** Verifier's clock, Unix seconds (the page's, so ages agree). */
  nowUnix: number;
}

/** How one input fared as a whole. */
export interface SourceOutcome {
  id: string;
  ok: boolean;
  /** Error code when the list could not be read at all. */
  code?: string;
  message?: string;
  network?: string;
  /** Onion of the node that produced the list. */
  origin?: string;
  generatedAt?: number;
  peerCount: number;
}

/** One peer as the page shows it: the record, its verdict and what the list said. */
export interface Peer {
  onion: string;
  ok: boolean;
  /** "ok" or the package's stable reason code. */
  code: string;
  message: string;
  role: string;
  status: string;
  network: string;
  issuedAt: number | null;
  sequence: string;
  powDifficulty: number;
  powNonce: string;
  ports: number[];
  tcpEndpoint: string;
  lastSeen: number | null;
  learnedFrom: string;
  /** Ids of the inputs that carried this peer. */
  sources: string[];
  /** False for a list's source node that no list carried a record for. */
  hasRecord: boolean;
}

/** Request from the page to the worker. */
export interface VerifyRequest {
  type: "verify";
  requestId: number;
  inputs: SourceInput[];
  params: VerifyParams;
  /** Last known positions by onion, so a refresh does not reshuffle the graph. */
  positions: Record<string, [number, number]>;
}

export interface VerifiedMessage {
  type: "verified";
  requestId: number;
  sources: SourceOutcome[];
  peers: Peer[];
  /** Edge list as pairs of indices into `peers`: [from, to, from, to, ...]. */
  edges: Uint32Array;
  /** Initial positions, x0 y0 x1 y1 ... */
  xy: Float32Array;
  verifyMs: number;
}

export interface LayoutMessage {
  type: "layout";
  requestId: number;
  xy: Float32Array;
  done: boolean;
}

export interface FatalMessage {
  type: "fatal";
  requestId: number;
  code: string;
  message: string;
}

export type WorkerMessage = VerifiedMessage | LayoutMessage | FatalMessage;
