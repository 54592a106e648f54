// Merging verified peer lists from several inputs into one graph.
//
// Pure data code (runs in the worker): no verification happens here — every
// `ok`/`code`/`message` comes from the wasm package's verdicts unchanged.
import type { PeerListJson, PeerRecordJson, Verdict } from "./torpeer";
import type { Peer, SourceOutcome } from "./types";

export interface DecodedList {
  id: string;
  list: PeerListJson;
  verdicts: Verdict[];
}

export interface Merged {
  sources: SourceOutcome[];
  /** Peers with a record first (table rows), then graph-only onions. */
  peers: Peer[];
  edges: Uint32Array;
}

function u64(value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Compares decimal u64 strings without losing precision. */
function newerSequence(a: string, b: string): boolean {
  try {
    return BigInt(a || "0") > BigInt(b || "0");
  } catch {
    return false;
  }
}

function peerFrom(record: PeerRecordJson, verdict: Verdict, key: string, sourceId: string): Peer {
  return {
    onion: key,
    ok: verdict.ok,
    code: verdict.code,
    message: verdict.message,
    role: record.role ?? "ROLE_UNSPECIFIED",
    status: "PEER_STATUS_UNKNOWN",
    network: record.network ?? "",
    issuedAt: u64(record.issuedAt),
    sequence: record.sequence ?? "0",
    powDifficulty: record.powDifficulty ?? 0,
    powNonce: record.powNonce ?? "0",
    ports: record.ports ?? [],
    tcpEndpoint: record.tcpEndpoint ?? "",
    lastSeen: null,
    learnedFrom: "",
    sources: [sourceId],
    hasRecord: true,
  };
}

function graphOnly(onion: string): Peer {
  return {
    onion,
    ok: false,
    code: "no_record",
    message: "Named as a list's source or as learnedFrom, but no loaded list carries its record.",
    role: "ROLE_UNSPECIFIED",
    status: "PEER_STATUS_UNKNOWN",
    network: "",
    issuedAt: null,
    sequence: "0",
    powDifficulty: 0,
    powNonce: "0",
    ports: [],
    tcpEndpoint: "",
    lastSeen: null,
    learnedFrom: "",
    sources: [],
    hasRecord: false,
  };
}

/**
 * One peer per onion across all lists. When two lists carry the same onion
 * the higher sequence wins (as in a node's peer table), and on a tie a
 * verified record beats a failing one, so one bad copy cannot hide a good one.
 * Edges run "who told whom": learnedFrom → peer, or the list's source → peer
 * when the source met the peer directly.
 */
export function mergeLists(decoded: Array<DecodedList | SourceOutcome>): Merged {
  const sources: SourceOutcome[] = [];
  const byOnion = new Map<string, Peer>();
  const edgeKeys: Array<[string, string]> = [];
  let anon = 0;

  for (const item of decoded) {
    if (!("list" in item)) {
      sources.push(item);
      continue;
    }
    const { id, list, verdicts } = item;
    const entries = list.peers ?? [];
    sources.push({
      id,
      ok: true,
      network: list.network,
      origin: list.source,
      generatedAt: u64(list.generatedAt) ?? undefined,
      peerCount: entries.length,
    });
    entries.forEach((entry, i) => {
      const verdict: Verdict = verdicts[i] ?? { ok: false, code: "internal", message: "No verdict for this entry.", record: null };
      const record = entry.record ?? verdict.record ?? {};
      const key = record.onion || `(entry ${++anon} without onion)`;
      const candidate = peerFrom(record, verdict, key, id);
      candidate.status = entry.status ?? "PEER_STATUS_UNKNOWN";
      candidate.lastSeen = u64(entry.lastSeen);
      candidate.learnedFrom = entry.learnedFrom ?? "";
      const known = byOnion.get(key);
      if (!known) {
        byOnion.set(key, candidate);
      } else {
        const replace = newerSequence(candidate.sequence, known.sequence) || (candidate.sequence === known.sequence && candidate.ok && !known.ok);
        const merged = replace ? candidate : known;
        merged.sources = Array.from(new Set([...known.sources, id]));
        byOnion.set(key, merged);
      }
      const from = entry.learnedFrom || list.source || "";
      if (from && from !== key) edgeKeys.push([from, key]);
    });
  }

  const peers = Array.from(byOnion.values());
  const index = new Map<string, number>();
  peers.forEach((p, i) => index.set(p.onion, i));
  for (const [from] of edgeKeys) {
    if (!index.has(from)) {
      index.set(from, peers.length);
      peers.push(graphOnly(from));
    }
  }
  const seen = new Set<string>();
  const edges: number[] = [];
  for (const [from, to] of edgeKeys) {
    const a = index.get(from);
    const b = index.get(to);
    if (a === undefined || b === undefined) continue;
    const k = `${a}>${b}`;
    if (seen.has(k)) continue;
    seen.add(k);
    edges.push(a, b);
  }
  return { sources, peers, edges: Uint32Array.from(edges) };
}
