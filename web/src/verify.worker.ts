// The verification worker: decodes every input with the `torpeer` npm package
// (the Rust core compiled to wasm), verifies every record and PoW, merges the
// lists into one peer set and lays the graph out with d3-force — all off the
// page's main thread, so a 5,000-peer list never freezes scrolling or input.
import { loadTorpeer, type PeerEntryJson, type PeerListJson, type Torpeer, type Verdict } from "./torpeer";
import { mergeLists, type DecodedList } from "./merge";
import { runLayout } from "./layout";
import type { SourceInput, SourceOutcome, VerifyRequest, WorkerMessage } from "./types";

let torpeer: Promise<Torpeer> | null = null;
/** The newest request; older layouts stop as soon as a newer one arrives. */
let latest = 0;

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(message, transfer);
}

/** `code` of an Error thrown by the package; "internal" for anything else. */
function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === "string" ? code : "internal", message: err.message };
  }
  return { code: "internal", message: String(err) };
}

/**
 * The package caps one input at 1 MiB (a bound on what one call may
 * allocate). A bigger JSON list is split here into sub-lists of whole entries
 * — only transport: every entry is still decoded and verified by the package.
 * Binary protobuf cannot be split without decoding it, so it stays capped.
 */
const SPLIT_BYTES = 768 * 1024;
const SPLIT_ENTRIES = 1000;

function pieces(input: SourceInput): Array<string | Uint8Array> {
  if (typeof input.data !== "string" || input.data.length <= SPLIT_BYTES) return [input.data];
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.data);
  } catch (err) {
    throw Object.assign(new Error(`not JSON: ${(err as Error).message}`), { code: "invalid_json" });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return [input.data];
  const { peers, ...head } = parsed as { peers?: unknown };
  if (!Array.isArray(peers) || peers.length <= SPLIT_ENTRIES) return [input.data];
  const out: string[] = [];
  for (let i = 0; i < peers.length; i += SPLIT_ENTRIES) out.push(JSON.stringify({ ...head, peers: peers.slice(i, i + SPLIT_ENTRIES) }));
  return out;
}

function decodeOne(tp: Torpeer, input: SourceInput, req: VerifyRequest): DecodedList | SourceOutcome {
  try {
    let list: PeerListJson | null = null;
    const entries: PeerEntryJson[] = [];
    const verdicts: Verdict[] = [];
    for (const piece of pieces(input)) {
      const part = tp.decodePeerList(piece);
      list ??= part;
      entries.push(...(part.peers ?? []));
      const network = req.params.network || part.network || undefined;
      const options: { network?: string; nowUnix: number; minDifficulty?: number } = { nowUnix: req.params.nowUnix };
      if (network) options.network = network;
      if (req.params.minDifficulty !== null) options.minDifficulty = req.params.minDifficulty;
      verdicts.push(...tp.verifyPeerList(piece, options));
    }
    return { id: input.id, list: { ...(list ?? {}), peers: entries }, verdicts };
  } catch (err) {
    const { code, message } = errorInfo(err);
    return { id: input.id, ok: false, code, message, peerCount: 0 };
  }
}

async function handle(req: VerifyRequest): Promise<void> {
  latest = req.requestId;
  let tp: Torpeer;
  try {
    torpeer ??= loadTorpeer();
    tp = await torpeer;
  } catch (err) {
    torpeer = null;
    const { message } = errorInfo(err);
    post({ type: "fatal", requestId: req.requestId, code: "wasm_load", message: `The verifier (wasm) did not load: ${message}` });
    return;
  }
  const t0 = performance.now();
  const decoded = req.inputs.map((input) => decodeOne(tp, input, req));
  const merged = mergeLists(decoded);
  const verifyMs = performance.now() - t0;

  const layout = runLayout(merged.peers.length, merged.edges, merged.peers.map((p) => req.positions[p.onion]));
  const first = layout.next();
  const xy0 = first.done ? new Float32Array(0) : first.value.xy;
  post(
    { type: "verified", requestId: req.requestId, sources: merged.sources, peers: merged.peers, edges: merged.edges, xy: xy0, verifyMs },
    [merged.edges.buffer, xy0.buffer],
  );
  // Let each layout batch go out as its own task, so a newer request (a live
  // refresh) can cut an old layout short.
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (latest !== req.requestId) return;
    const step = layout.next();
    if (step.done) return;
    post({ type: "layout", requestId: req.requestId, xy: step.value.xy, done: step.value.done }, [step.value.xy.buffer]);
    if (step.value.done) return;
  }
}

self.onmessage = (event: MessageEvent<VerifyRequest>) => {
  if (event.data?.type === "verify") void handle(event.data);
};
