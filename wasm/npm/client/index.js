// A client for a TorPeer node's local HTTP API (PROTOCOL.md §9), for Node 20+
// and browsers: plain `fetch`, no WebAssembly, no dependencies.
//
//   import { connect } from "torpeer/client";
//   const node = await connect("http://127.0.0.1:8686", token); // token: <data-dir>/api.token
//   await node.send(peerOnion, "hello");
//   for await (const event of node.events()) { ... }
//
// Server-Sent Events are read from a fetch stream with the parser below
// (EventSource cannot send an Authorization header).

/** An error answer of the node's API, or a transport failure. */
export class TorPeerApiError extends Error {
  /**
   * @param {string} code stable code (`unauthorized`, `peer_offline`, …; `network` when the node could not be reached)
   * @param {string} message human text
   * @param {number} status HTTP status (0 when there was no answer)
   */
  constructor(code, message, status) {
    super(message);
    this.name = "TorPeerApiError";
    this.code = code;
    this.status = status;
  }
}

const encoder = new TextEncoder();

/** Bytes to standard base64 (works on 1 MiB payloads: chunked, no spread overflow). */
export function toBase64(bytes) {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Standard base64 to bytes; throws TorPeerApiError `bad_base64` on garbage. */
export function fromBase64(text) {
  let binary;
  try {
    binary = atob(text);
  } catch {
    throw new TorPeerApiError("bad_base64", "the node sent data that is not base64", 0);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function asBytes(data) {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("data must be a string, Uint8Array, ArrayBuffer or typed array");
}

/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream rules:
 * lines end in CRLF, LF or CR; `data` lines join with "\n"; a blank line
 * dispatches; `:` lines are comments; a leading BOM is skipped).
 */
export class SseParser {
  constructor() {
    this.buffer = "";
    this.type = "";
    this.data = [];
    this.started = false;
    this.pendingCR = false;
  }

  /** Feed decoded text; returns the events it completed, as `{ type, data }`. */
  push(text) {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR at the end of the previous chunk already ended its line; an LF
    // right after it belongs to that line ending.
    if (this.pendingCR && text.startsWith("\n")) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    const events = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCR = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line) {
    if (line === "") {
      if (this.data.length === 0) {
        this.type = "";
        return null;
      }
      const event = { type: this.type || "message", data: this.data.join("\n") };
      this.type = "";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    // `id` and `retry` are not used by the node; ignored like unknown fields.
    return null;
  }
}

const ROLES = { ROLE_PARTICIPANT: "participant", ROLE_ROUTER: "router" };
// proto3 JSON leaves the default value (UNKNOWN) out.
const STATUSES = { undefined: "unknown", PEER_STATUS_UNKNOWN: "unknown", PEER_STATUS_ONLINE: "online", PEER_STATUS_OFFLINE: "offline" };

/** A node event in the client's shape (bytes decoded, camelCase). */
function toEvent(sse) {
  let body;
  try {
    body = JSON.parse(sse.data);
  } catch {
    throw new TorPeerApiError("bad_event", `the node sent an event that is not JSON: ${sse.data.slice(0, 80)}`, 0);
  }
  if (sse.type === "message") {
    return { type: "message", from: body.from, data: fromBase64(body.data) };
  }
  if (sse.type === "peer") {
    const event = { type: "peer", onion: body.onion, status: body.status };
    if (body.learned_from !== undefined) event.learnedFrom = body.learned_from;
    if (body.sequence !== undefined) event.sequence = body.sequence;
    return event;
  }
  return null; // an event type this client does not know yet
}

async function apiError(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || code;
  try {
    const body = await response.json();
    if (typeof body.code === "string") code = body.code;
    if (typeof body.message === "string") message = body.message;
  } catch {
    // Not JSON: keep the status.
  }
  return new TorPeerApiError(code, message, response.status);
}

/** A connected node; made by {@link connect}. */
export class TorPeerClient {
  constructor(url, token, status, fetchImpl) {
    this.url = url;
    this.onion = status.onion;
    this.role = status.role;
    this.network = status.network;
    this.#token = token;
    this.#fetch = fetchImpl;
  }

  #token;
  #fetch;

  async #request(path, init = {}, auth = false) {
    const headers = { Accept: "application/json", ...(init.headers ?? {}) };
    if (auth) headers.Authorization = `Bearer ${this.#token}`;
    let response;
    try {
      response = await this.#fetch(this.url + path, { ...init, headers });
    } catch (e) {
      if (e?.name === "AbortError") throw e;
      throw new TorPeerApiError("network", `cannot reach ${this.url}: ${e?.message ?? e}`, 0);
    }
    if (!response.ok) throw await apiError(response);
    return response;
  }

  /**
   * Send bytes (a string is sent as UTF-8) to a participant, as this node.
   * Resolves when the node has queued it; rejects with a TorPeerApiError
   * (`unknown_peer`, `peer_offline`, `queue_full`, `too_large`, …).
   */
  async send(to, data) {
    const body = JSON.stringify({ to, data: toBase64(asBytes(data)) });
    const response = await this.#request(
      "/v1/messages",
      { method: "POST", body, headers: { "Content-Type": "application/json" } },
      true,
    );
    return response.json();
  }

  /**
   * The node's peer table (its own entry left out), from `GET /v1/peers`:
   * `{ onion, role, status, lastSeen, learnedFrom, record }` per peer.
   */
  async peers(filter = {}) {
    const list = await this.peerList(filter);
    return (list.peers ?? [])
      .filter((entry) => entry.record?.onion && entry.record.onion !== this.onion)
      .map((entry) => ({
        onion: entry.record.onion,
        role: ROLES[entry.record.role] ?? "unknown",
        status: STATUSES[entry.status] ?? "unknown",
        lastSeen: entry.lastSeen ?? null,
        learnedFrom: entry.learnedFrom ?? null,
        record: entry.record,
      }));
  }

  /** `GET /v1/peers` as it is: a proto3-JSON PeerList, the node's own record first. */
  async peerList(filter = {}) {
    const query = new URLSearchParams();
    if (filter.role !== undefined) query.set("role", filter.role);
    if (filter.online !== undefined) query.set("online", String(filter.online));
    if (filter.max !== undefined) query.set("max", String(filter.max));
    const q = query.toString();
    const response = await this.#request(`/v1/peers${q ? `?${q}` : ""}`);
    return response.json();
  }

  /** `GET /v1/status`. */
  async status() {
    return (await this.#request("/v1/status")).json();
  }

  /**
   * The node's events from now on, as an async iterator. Breaking out of
   * `for await`, calling `close()` or aborting `signal` ends the stream. It
   * also ends when the node closes it (shutdown, or this consumer fell too
   * far behind); call `events()` again to resubscribe.
   */
  events({ signal } = {}) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (signal) {
      if (signal.aborted) controller.abort();
      else signal.addEventListener("abort", abort, { once: true });
    }
    const open = this.#request(
      "/v1/events",
      { headers: { Accept: "text/event-stream" }, signal: controller.signal },
      true,
    );
    async function* iterate() {
      let reader;
      try {
        const response = await open;
        if (!response.body) throw new TorPeerApiError("no_stream", "the event response has no body", 0);
        reader = response.body.getReader();
        const decoder = new TextDecoder();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const sse of parser.push(decoder.decode(value, { stream: true }))) {
            const event = toEvent(sse);
            if (event) yield event;
          }
        }
      } catch (e) {
        if (controller.signal.aborted && e?.name === "AbortError") return;
        throw e;
      } finally {
        signal?.removeEventListener("abort", abort);
        controller.abort();
        reader?.releaseLock?.();
      }
    }
    // Awaited inside the generator; this handler only keeps a stream that
    // is never iterated from raising an unhandled rejection.
    open.catch(() => {});
    const iterator = iterate();
    iterator.opened = open.then(() => undefined);
    iterator.opened.catch(() => {});
    // An unstarted generator's `finally` never runs: close() aborts the
    // fetch directly as well.
    iterator.close = async () => {
      controller.abort();
      await iterator.return(undefined);
    };
    return iterator;
  }
}

/**
 * Connect to a node's local API: checks it answers (`GET /v1/status`) and
 * returns a client that acts as the node with `token`
 * (the contents of `<data-dir>/api.token`).
 */
export async function connect(url, token, options = {}) {
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
    throw new TypeError("url must be an http:// or https:// URL");
  }
  if (typeof token !== "string" || token.trim() === "") {
    throw new TypeError("token must be the node's api.token (a non-empty string)");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (!fetchImpl) throw new TypeError("no fetch available: pass options.fetch");
  const base = url.replace(/\/+$/, "");
  let response;
  try {
    response = await fetchImpl(`${base}/v1/status`, { headers: { Accept: "application/json" } });
  } catch (e) {
    throw new TorPeerApiError("network", `cannot reach ${base}: ${e?.message ?? e}`, 0);
  }
  if (!response.ok) throw await apiError(response);
  return new TorPeerClient(base, token.trim(), await response.json(), fetchImpl);
}
