// Typings of `torpeer/client`: a client for a TorPeer node's local HTTP API
// (PROTOCOL.md §9). Written by hand; checked by tsc against the tests.

/** Stable codes of the node's API errors, plus the client's own. */
export type ApiErrorCode =
  | "unauthorized"
  | "bad_json"
  | "bad_address"
  | "bad_base64"
  | "bad_body"
  | "too_large"
  | "unknown_peer"
  | "peer_offline"
  | "router_refuses"
  | "local_is_router"
  | "queue_full"
  | "shut_down"
  | "stopped"
  | "not_found"
  | "method_not_allowed"
  | "bad_query"
  | "network"
  | "bad_event"
  | "no_stream"
  | `http_${number}`;

/** An error answer of the node (`status` is its HTTP status), or a failure to reach it (`status` 0). */
export class TorPeerApiError extends Error {
  constructor(code: ApiErrorCode, message: string, status: number);
  readonly name: "TorPeerApiError";
  readonly code: ApiErrorCode;
  readonly status: number;
}

/** What can be sent: a string goes as UTF-8. */
export type MessageData = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/** Application data from a participant; `from` is the authenticated sender. */
export interface MessageEvent {
  type: "message";
  from: string;
  data: Uint8Array;
}

/** A change in the node's peer table. */
export interface PeerEvent {
  type: "peer";
  onion: string;
  status: "discovered" | "online" | "offline" | "updated";
  /** Who told the node about it (`discovered` only; null for direct contact). */
  learnedFrom?: string | null;
  /** The record's new sequence, a decimal u64 (`updated` only). */
  sequence?: string;
}

export type TorPeerEvent = MessageEvent | PeerEvent;

/** The async iterator returned by {@link TorPeerClient.events}. */
export interface EventStream extends AsyncIterableIterator<TorPeerEvent> {
  /** Stop listening (closes the HTTP stream). */
  close(): Promise<void>;
  /** Resolves once the node has answered and is delivering events from then on (rejects like the stream). */
  readonly opened: Promise<void>;
}

/** `GET /v1/status`. Fields may be added, never renamed. */
export interface NodeStatus {
  onion: string;
  role: "participant" | "router";
  network: string;
  min_difficulty: number;
  transport: string;
  listen: string | null;
  connections: number;
  streams: number;
  known_peers: number;
  uptime_s: number;
  record_sequence: number;
  messages_received: number;
}

/** One record of a peer list, in proto3 JSON (u64 fields as decimal strings). */
export interface PeerRecordJson {
  onion?: string;
  network?: string;
  role?: "ROLE_UNSPECIFIED" | "ROLE_PARTICIPANT" | "ROLE_ROUTER";
  ports?: number[];
  issuedAt?: string;
  sequence?: string;
  powDifficulty?: number;
  powNonce?: string;
  tcpEndpoint?: string;
  signature?: string;
}

/** `GET /v1/peers` (proto3 JSON of `PeerList`). */
export interface PeerListJson {
  network?: string;
  source?: string;
  generatedAt?: string;
  peers?: Array<{
    record?: PeerRecordJson;
    status?: "PEER_STATUS_UNKNOWN" | "PEER_STATUS_ONLINE" | "PEER_STATUS_OFFLINE";
    lastSeen?: string;
    learnedFrom?: string;
  }>;
}

/** One entry of the node's peer table, as {@link TorPeerClient.peers} returns it. */
export interface Peer {
  onion: string;
  role: "participant" | "router" | "unknown";
  status: "online" | "offline" | "unknown";
  /** Unix seconds as a decimal string, when known. */
  lastSeen: string | null;
  /** Who told the node about it; null for direct contact or bootstrap. */
  learnedFrom: string | null;
  /** The signed record. */
  record: PeerRecordJson;
}

export interface PeerFilter {
  role?: "participant" | "router";
  online?: boolean;
  max?: number;
}

/** The node's answer to a queued message. */
export interface SendResult {
  queued: true;
  to: string;
}

export class TorPeerClient {
  private constructor();
  /** The API's base URL, without a trailing slash. */
  readonly url: string;
  /** The node's onion address (from `/v1/status` at connect time). */
  readonly onion: string;
  readonly role: "participant" | "router";
  readonly network: string;
  /** Send as the node; rejects with a {@link TorPeerApiError}. */
  send(to: string, data: MessageData): Promise<SendResult>;
  /** The node's peer table, its own entry left out. */
  peers(filter?: PeerFilter): Promise<Peer[]>;
  /** `GET /v1/peers` as served: the node's own record first, then the table. */
  peerList(filter?: PeerFilter): Promise<PeerListJson>;
  status(): Promise<NodeStatus>;
  /** Events from now on; ends when closed, aborted, or when the node ends the stream. */
  events(options?: { signal?: AbortSignal }): EventStream;
}

export interface ConnectOptions {
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

/** Connect to a node's local API with the token from its data dir's `api.token`. */
export function connect(url: string, token: string, options?: ConnectOptions): Promise<TorPeerClient>;

/** Incremental Server-Sent Events parser (exported for reuse and tests). */
export class SseParser {
  constructor();
  push(text: string): Array<{ type: string; data: string }>;
}

export function toBase64(bytes: Uint8Array): string;
export function fromBase64(text: string): Uint8Array;
