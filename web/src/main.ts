// The page: gathers inputs, hands them to the verification worker, and shows
// what comes back (summary, sources, graph, table, detail panel).
import "./style.css";
import { formatAge, roleLabel, shortOnion, statusLabel, unixDate } from "./format";
import { PeerGraph } from "./graph";
import { fetchList, peersUrl, readFile, SourceError, type Format } from "./sources";
import { PeerTable, type Filter } from "./table";
import type { Peer, SourceInput, SourceOutcome, VerifyRequest, WorkerMessage } from "./types";

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

const ui = {
  form: $<HTMLFormElement>("controls"),
  urls: $<HTMLInputElement>("urls"),
  format: $<HTMLSelectElement>("format"),
  network: $<HTMLInputElement>("network"),
  minDifficulty: $<HTMLInputElement>("min-difficulty"),
  live: $<HTMLInputElement>("live"),
  interval: $<HTMLInputElement>("interval"),
  file: $<HTMLInputElement>("file"),
  pasteToggle: $<HTMLButtonElement>("paste-toggle"),
  pastePanel: $<HTMLDivElement>("paste-panel"),
  paste: $<HTMLTextAreaElement>("paste"),
  pasteVerify: $<HTMLButtonElement>("paste-verify"),
  summary: $<HTMLParagraphElement>("summary"),
  sources: $<HTMLUListElement>("sources"),
  banner: $<HTMLDivElement>("banner"),
  graph: $<HTMLDivElement>("peer-graph"),
  fit: $<HTMLButtonElement>("fit"),
  table: $<HTMLElement>("peer-table"),
  rows: $<HTMLElement>("peer-rows"),
  rowCount: $<HTMLElement>("row-count"),
  detail: $<HTMLElement>("detail"),
  dropHint: $<HTMLDivElement>("drop-hint"),
  filterText: $<HTMLInputElement>("filter-text"),
  filterVerdict: $<HTMLSelectElement>("filter-verdict"),
  filterRole: $<HTMLSelectElement>("filter-role"),
  filterStatus: $<HTMLSelectElement>("filter-status"),
};

const worker = new Worker(new URL("./verify.worker.ts", import.meta.url), { type: "module" });
const graph = new PeerGraph(ui.graph);
const table = new PeerTable(ui.table, ui.rows, ui.rowCount);

const state = {
  /** Files dropped, opened or pasted; they stay until replaced. */
  files: [] as SourceInput[],
  /** Failures of inputs that never reached the worker (fetch errors). */
  fetchFailures: [] as SourceOutcome[],
  peers: [] as Peer[],
  nowUnix: 0,
  requestId: 0,
  loading: null as AbortController | null,
  timer: 0,
  /** The same-origin probe when served by a node: failing it is not an error. */
  probing: false,
  firstDrawPending: false,
};

// ---------------------------------------------------------------- inputs

function urlList(): string[] {
  return ui.urls.value.split(/[\s,]+/).filter(Boolean);
}

function params(): VerifyRequest["params"] {
  const min = ui.minDifficulty.value.trim();
  return {
    network: ui.network.value.trim(),
    minDifficulty: min === "" ? null : Math.max(0, Math.min(64, Math.floor(Number(min)))),
    nowUnix: Math.floor(Date.now() / 1000),
  };
}

async function load(): Promise<void> {
  clearTimeout(state.timer);
  state.loading?.abort();
  const abort = new AbortController();
  state.loading = abort;
  const requestId = ++state.requestId;
  performance.clearMarks();
  performance.clearMeasures();
  performance.mark("tp:start");
  document.body.dataset.state = "loading";

  const format = ui.format.value as Format;
  const inputs: SourceInput[] = [...state.files];
  const failures: SourceOutcome[] = [];
  const urls: string[] = [];
  for (const raw of urlList()) {
    try {
      urls.push(peersUrl(raw, location.href));
    } catch (err) {
      failures.push({ id: raw, ok: false, code: "bad_url", message: (err as Error).message, peerCount: 0 });
    }
  }
  const fetched = await Promise.allSettled(urls.map((u) => fetchList(u, format, abort.signal)));
  if (abort.signal.aborted || requestId !== state.requestId) return;
  fetched.forEach((r, i) => {
    if (r.status === "fulfilled") inputs.push(r.value);
    else {
      const err = r.reason;
      const code = err instanceof SourceError ? err.code : "unreachable";
      failures.push({ id: urls[i], ok: false, code, message: err instanceof Error ? err.message : String(err), peerCount: 0 });
    }
  });
  state.fetchFailures = failures;

  if (state.probing && inputs.length === 0) {
    // Not served by a node (or the node is down): start empty, not in alarm.
    state.probing = false;
    ui.urls.value = "";
    ui.live.checked = false;
    state.fetchFailures = [];
    showResult([], []);
    return;
  }
  if (state.probing) {
    state.probing = false;
    await adoptNodeParams(abort.signal);
  }

  if (inputs.length === 0) {
    showResult(failures, []);
    scheduleRefresh();
    return;
  }
  const p = params();
  state.nowUnix = p.nowUnix;
  const request: VerifyRequest = { type: "verify", requestId, inputs, params: p, positions: graph.positions() };
  worker.postMessage(request);
}

/**
 * Served by a node: take the verifier's minimum difficulty from the node's
 * own `/v1/status` (`min_difficulty`), unless the user gave one — a demo
 * network with difficulty 8 would otherwise fail every record against the
 * default network's 20. Best effort: an older node without the field, or an
 * error, leaves the package's default.
 */
async function adoptNodeParams(signal: AbortSignal): Promise<void> {
  if (ui.minDifficulty.value.trim() !== "") return;
  try {
    const response = await fetch(`${location.origin}/v1/status`, { cache: "no-store", signal });
    if (!response.ok) return;
    const status = (await response.json()) as Record<string, unknown>;
    const min = status.min_difficulty ?? status.minDifficulty;
    if (typeof min === "number" && Number.isInteger(min) && min >= 0 && min <= 64) ui.minDifficulty.value = String(min);
  } catch {
    // Not fatal: verification proceeds with the package's default.
  }
}

function scheduleRefresh(): void {
  clearTimeout(state.timer);
  if (!ui.live.checked || urlList().length === 0) return;
  const secs = Math.max(1, Number(ui.interval.value) || 5);
  state.timer = window.setTimeout(() => void load(), secs * 1000);
}

// ---------------------------------------------------------------- results

worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
  const msg = event.data;
  if (msg.requestId !== state.requestId) return;
  switch (msg.type) {
    case "fatal":
      showBanner("error", [`${msg.code}: ${msg.message}`]);
      document.body.dataset.state = "error";
      break;
    case "verified":
      performance.mark("tp:verified");
      performance.measure("tp:time-to-verified", "tp:start", "tp:verified");
      document.body.dataset.verifyMs = msg.verifyMs.toFixed(1);
      state.peers = msg.peers;
      state.firstDrawPending = true;
      graph.setData(msg.peers, msg.edges, msg.xy, state.nowUnix);
      showResult([...state.fetchFailures, ...msg.sources], msg.peers);
      table.setData(msg.peers, state.nowUnix);
      refreshDetail();
      scheduleRefresh();
      break;
    case "layout":
      graph.setPositions(msg.xy, msg.done);
      if (msg.done && performance.getEntriesByName("tp:layout-done", "mark").length === 0) {
        performance.mark("tp:layout-done");
        performance.measure("tp:time-to-layout-done", "tp:start", "tp:layout-done");
      }
      break;
  }
};

worker.onerror = (event) => {
  event.preventDefault();
  showBanner("error", [`The verification worker failed: ${event.message || "could not start"}`]);
  document.body.dataset.state = "error";
};

graph.onFirstDraw = (count) => {
  ui.graph.dataset.nodeCount = String(count);
  if (state.firstDrawPending) {
    state.firstDrawPending = false;
    performance.mark("tp:first-draw");
    performance.measure("tp:time-to-first-draw", "tp:start", "tp:first-draw");
  }
};

table.onRendered = () => {
  if (document.body.dataset.state !== "loading") return;
  performance.mark("tp:rows");
  performance.measure("tp:time-to-rows", "tp:start", "tp:rows");
  document.body.dataset.state = "ready";
};

function showBanner(kind: "error" | "warning" | "empty", lines: string[]): void {
  ui.banner.hidden = false;
  ui.banner.className = `banner ${kind}`;
  ui.banner.dataset.kind = kind;
  ui.banner.replaceChildren(
    ...lines.map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    }),
  );
}

function showResult(sources: SourceOutcome[], peers: Peer[]): void {
  ui.sources.replaceChildren(
    ...sources.map((s) => {
      const li = document.createElement("li");
      li.className = s.ok ? "ok" : "bad";
      li.dataset.testid = "source";
      li.dataset.ok = String(s.ok);
      const name = document.createElement("strong");
      name.textContent = s.id;
      const what = document.createElement("span");
      what.textContent = s.ok
        ? ` — ${s.peerCount} peers${s.network ? ` on “${s.network}”` : ""}${s.origin ? `, from ${shortOnion(s.origin)}` : ""}${s.generatedAt ? `, generated ${formatAge(state.nowUnix - s.generatedAt)} ago` : ""}`
        : ` — ${s.code}: ${s.message}`;
      li.append(name, what);
      return li;
    }),
  );

  const withRecord = peers.filter((p) => p.hasRecord);
  const passed = withRecord.filter((p) => p.ok).length;
  const failed = withRecord.length - passed;
  ui.summary.dataset.total = String(withRecord.length);
  ui.summary.dataset.verified = String(passed);
  ui.summary.dataset.failed = String(failed);
  const broken = sources.filter((s) => !s.ok);

  if (sources.length === 0) {
    ui.summary.textContent = "No peer list loaded.";
    showBanner("empty", ["No peer list loaded yet. Enter a node URL, open or drop a list file, or paste one."]);
    graph.setData([], new Uint32Array(0), new Float32Array(0), 0);
    ui.graph.dataset.nodeCount = "0";
    table.setData([], 0);
    document.body.dataset.state = "empty";
    return;
  }
  ui.summary.textContent = `${withRecord.length} peers: ${passed} verified, ${failed} failed` + (broken.length ? ` · ${broken.length} of ${sources.length} sources failed` : "");

  const lines: string[] = [];
  let kind: "error" | "warning" | "empty" = "warning";
  if (broken.length === sources.length) {
    kind = "error";
    lines.push(...broken.map((s) => `${s.id}: ${s.code === "invalid_json" || s.code === "invalid_protobuf" ? "malformed list — " : ""}${s.message}`));
  } else if (withRecord.length === 0) {
    kind = "empty";
    lines.push("The loaded lists hold no peers.");
  } else if (passed === 0) {
    kind = "error";
    lines.push(`All ${withRecord.length} records failed verification. See the Reason column.`);
  } else {
    lines.push(...broken.map((s) => `${s.id}: ${s.message}`));
  }
  if (lines.length) showBanner(kind, lines);
  else ui.banner.hidden = true;
  if (peers.length === 0) {
    graph.setData([], new Uint32Array(0), new Float32Array(0), 0);
    ui.graph.dataset.nodeCount = "0";
    table.setData([], 0);
    document.body.dataset.state = broken.length ? "error" : "empty";
  }
}

// ---------------------------------------------------------------- detail

let selectedOnion = "";

function selectIndex(index: number): void {
  const peer = state.peers[index];
  selectedOnion = peer?.onion ?? "";
  graph.select(peer ? index : -1);
  table.markSelected(selectedOnion);
  refreshDetail();
}

function field(dl: HTMLDListElement, term: string, value: string | Node): void {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.append(value);
  dl.append(dt, dd);
}

function peerButton(onion: string): HTMLElement {
  const i = state.peers.findIndex((p) => p.onion === onion);
  if (i < 0) {
    const span = document.createElement("span");
    span.className = "mono";
    span.textContent = onion;
    return span;
  }
  const b = document.createElement("button");
  b.type = "button";
  b.className = "link mono";
  b.textContent = shortOnion(onion);
  b.title = onion;
  b.addEventListener("click", () => selectIndex(i));
  return b;
}

function refreshDetail(): void {
  const index = state.peers.findIndex((p) => p.onion === selectedOnion);
  const title = document.createElement("h2");
  title.id = "detail-title";
  title.textContent = "Peer";
  if (index < 0) {
    const hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = "Select a peer in the table (Enter) or click one in the graph.";
    ui.detail.replaceChildren(title, hint);
    return;
  }
  const p = state.peers[index];
  const verdict = document.createElement("p");
  verdict.className = `verdict-line ${p.ok ? "pass" : "fail"}`;
  verdict.dataset.testid = "detail-verdict";
  verdict.textContent = p.ok ? "✓ Verified: signature, proof-of-work, network and age all check out." : `✗ ${p.code}: ${p.message}`;
  const onion = document.createElement("p");
  onion.className = "mono onion-full";
  onion.textContent = p.onion;
  const dl = document.createElement("dl");
  field(dl, "Role", roleLabel(p.role));
  field(dl, "Status", statusLabel(p.status));
  field(dl, "Network", p.network || "—");
  field(dl, "Issued", p.issuedAt === null ? "—" : `${unixDate(p.issuedAt)} (${formatAge(state.nowUnix - p.issuedAt)} ago)`);
  field(dl, "Sequence", p.sequence);
  field(dl, "PoW", `difficulty ${p.powDifficulty}, nonce ${p.powNonce}`);
  field(dl, "Ports", p.ports.length ? p.ports.join(", ") : "—");
  if (p.tcpEndpoint) field(dl, "TCP endpoint", p.tcpEndpoint);
  field(dl, "Last seen", p.lastSeen ? `${unixDate(p.lastSeen)} (${formatAge(state.nowUnix - p.lastSeen)} ago)` : "never");
  field(dl, "Learned from", p.learnedFrom ? peerButton(p.learnedFrom) : "directly by the list's source");
  const told = state.peers.filter((q) => q.learnedFrom === p.onion);
  if (told.length) {
    const wrap = document.createElement("span");
    told.slice(0, 20).forEach((q) => wrap.append(peerButton(q.onion), " "));
    if (told.length > 20) wrap.append(`and ${told.length - 20} more`);
    field(dl, `Told us of (${told.length})`, wrap);
  }
  field(dl, "Seen in", p.sources.join(", ") || "—");
  ui.detail.replaceChildren(title, verdict, onion, dl);
}

// ---------------------------------------------------------------- wiring

graph.onSelect = selectIndex;
table.onSelect = selectIndex;
ui.fit.addEventListener("click", () => graph.fit());

ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  void load();
});
ui.live.addEventListener("change", () => (ui.live.checked ? void load() : clearTimeout(state.timer)));

function applyFilter(): void {
  const filter: Filter = {
    text: ui.filterText.value,
    verdict: ui.filterVerdict.value as Filter["verdict"],
    role: ui.filterRole.value,
    status: ui.filterStatus.value,
  };
  table.setFilter(filter);
}
for (const el of [ui.filterText, ui.filterVerdict, ui.filterRole, ui.filterStatus]) el.addEventListener("input", applyFilter);

async function useFiles(files: FileList | File[]): Promise<void> {
  const list = Array.from(files);
  if (list.length === 0) return;
  const read = await Promise.allSettled(list.map(readFile));
  state.files = read.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const errors = read.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
  if (errors.length && state.files.length === 0) {
    showBanner("error", errors);
    return;
  }
  await load();
}

ui.file.addEventListener("change", () => {
  if (ui.file.files) void useFiles(ui.file.files);
  ui.file.value = "";
});
ui.pasteToggle.addEventListener("click", () => {
  ui.pastePanel.hidden = !ui.pastePanel.hidden;
  ui.pasteToggle.setAttribute("aria-expanded", String(!ui.pastePanel.hidden));
  if (!ui.pastePanel.hidden) ui.paste.focus();
});
ui.pasteVerify.addEventListener("click", () => {
  const text = ui.paste.value.trim();
  if (!text) {
    showBanner("empty", ["The paste box is empty."]);
    return;
  }
  state.files = [{ id: "pasted list", data: text }];
  void load();
});

let dragDepth = 0;
window.addEventListener("dragenter", (e) => {
  if (!e.dataTransfer?.types.includes("Files")) return;
  dragDepth++;
  ui.dropHint.hidden = false;
});
window.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) ui.dropHint.hidden = true;
});
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => {
  e.preventDefault();
  dragDepth = 0;
  ui.dropHint.hidden = true;
  if (e.dataTransfer?.files.length) void useFiles(e.dataTransfer.files);
});

// ---------------------------------------------------------------- start

/**
 * `?src=URL` (repeatable or space-separated), `network`, `minDifficulty`,
 * `format`, `live=0|1`, `interval=SECS`. With no `src` on an http(s) page the
 * dashboard assumes a node serves it and loads that node's `/v1/peers`, live.
 */
function start(): void {
  const q = new URLSearchParams(location.search);
  const srcs = q.getAll("src").flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  ui.network.value = q.get("network") ?? "";
  ui.minDifficulty.value = q.get("minDifficulty") ?? "";
  if (q.get("format") === "binary") ui.format.value = "binary";
  if (q.get("interval")) ui.interval.value = q.get("interval") ?? "5";
  if (srcs.length) {
    ui.urls.value = srcs.join(" ");
    ui.live.checked = q.get("live") === "1";
  } else if (location.protocol === "http:" || location.protocol === "https:") {
    ui.urls.value = `${location.origin}/v1/peers`;
    ui.live.checked = q.get("live") !== "0";
    state.probing = true;
  } else {
    showResult([], []);
    return;
  }
  void load();
}

start();
