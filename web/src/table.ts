// The sortable, filterable peer table.
//
// Rows are real <tr>s (so find-in-page, screen readers and the test hooks
// see every peer), built in chunks of a few hundred per task so that even a
// 5,000-row list never blocks input for long.
import { formatAge, roleLabel, shortOnion, statusLabel } from "./format";
import type { Peer } from "./types";

export type SortKey = "verified" | "onion" | "role" | "status" | "age" | "pow" | "code" | "learnedFrom";

export interface Filter {
  text: string;
  verdict: "all" | "pass" | "fail";
  role: string;
  status: string;
}

const CHUNK = 250;

function compare(a: Peer, b: Peer, key: SortKey, now: number): number {
  switch (key) {
    case "verified":
      return Number(a.ok) - Number(b.ok);
    case "onion":
      return a.onion.localeCompare(b.onion);
    case "role":
      return a.role.localeCompare(b.role);
    case "status":
      return a.status.localeCompare(b.status);
    case "age":
      return (now - (a.issuedAt ?? 0)) - (now - (b.issuedAt ?? 0));
    case "pow":
      return a.powDifficulty - b.powDifficulty;
    case "code":
      return a.code.localeCompare(b.code);
    case "learnedFrom":
      return a.learnedFrom.localeCompare(b.learnedFrom);
  }
}

export class PeerTable {
  private peers: Peer[] = [];
  private now = 0;
  private sort: { key: SortKey; dir: 1 | -1 } = { key: "verified", dir: 1 };
  private filter: Filter = { text: "", verdict: "all", role: "", status: "" };
  private generation = 0;
  private selectedOnion = "";

  /** Called with the peer's index in the data set when a row is chosen. */
  onSelect: (index: number) => void = () => {};
  /** Called when every visible row is in the DOM. */
  onRendered: (shown: number) => void = () => {};

  constructor(
    private readonly table: HTMLTableElement,
    private readonly body: HTMLTableSectionElement,
    private readonly countLabel: HTMLElement,
  ) {
    for (const button of table.querySelectorAll<HTMLButtonElement>("th button[data-sort]")) {
      button.addEventListener("click", () => this.sortBy(button.dataset.sort as SortKey));
    }
    body.addEventListener("click", (e) => this.pick(e.target));
    body.addEventListener("keydown", (e) => {
      const row = (e.target as HTMLElement).closest("tr");
      if (!row) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.pick(row);
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const next = (e.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling) as HTMLElement | null;
        next?.focus();
      }
    });
    this.updateSortHeaders();
  }

  setData(peers: Peer[], now: number): void {
    this.peers = peers;
    this.now = now;
    this.render();
  }

  setFilter(filter: Filter): void {
    this.filter = filter;
    this.render();
  }

  markSelected(onion: string): void {
    this.selectedOnion = onion;
    for (const row of this.body.querySelectorAll<HTMLTableRowElement>("tr[aria-selected='true']")) {
      row.setAttribute("aria-selected", "false");
    }
    const row = this.body.querySelector<HTMLTableRowElement>(`tr[data-onion="${CSS.escape(onion)}"]`);
    if (row) {
      row.setAttribute("aria-selected", "true");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  private pick(target: EventTarget | null): void {
    const row = (target as HTMLElement | null)?.closest<HTMLTableRowElement>("tr[data-index]");
    if (!row) return;
    this.onSelect(Number(row.dataset.index));
  }

  private sortBy(key: SortKey): void {
    this.sort = this.sort.key === key ? { key, dir: this.sort.dir === 1 ? -1 : 1 } : { key, dir: 1 };
    this.updateSortHeaders();
    this.render();
  }

  private updateSortHeaders(): void {
    for (const th of this.table.querySelectorAll<HTMLElement>("th[data-col]")) {
      const active = th.dataset.col === this.sort.key;
      th.setAttribute("aria-sort", active ? (this.sort.dir === 1 ? "ascending" : "descending") : "none");
    }
  }

  private visible(): number[] {
    const { text, verdict, role, status } = this.filter;
    const needle = text.trim().toLowerCase();
    const out: number[] = [];
    this.peers.forEach((p, i) => {
      if (!p.hasRecord) return;
      if (verdict === "pass" && !p.ok) return;
      if (verdict === "fail" && p.ok) return;
      if (role && p.role !== role) return;
      if (status && p.status !== status) return;
      if (needle && !`${p.onion} ${p.code} ${p.message} ${p.learnedFrom}`.toLowerCase().includes(needle)) return;
      out.push(i);
    });
    const { key, dir } = this.sort;
    out.sort((a, b) => dir * compare(this.peers[a], this.peers[b], key, this.now) || this.peers[a].onion.localeCompare(this.peers[b].onion));
    return out;
  }

  private row(i: number): HTMLTableRowElement {
    const p = this.peers[i];
    const tr = document.createElement("tr");
    tr.dataset.testid = "peer-row";
    tr.dataset.onion = p.onion;
    tr.dataset.verified = String(p.ok);
    tr.dataset.code = p.code;
    tr.dataset.index = String(i);
    tr.tabIndex = 0;
    tr.setAttribute("aria-selected", String(p.onion === this.selectedOnion));
    tr.className = p.ok ? "pass" : "fail";
    const cells: Array<[string, string, string?]> = [
      [p.ok ? "✓ pass" : "✗ fail", "verdict"],
      [shortOnion(p.onion), "onion mono", p.onion],
      [roleLabel(p.role), ""],
      [statusLabel(p.status), `status ${p.status}`],
      [p.issuedAt === null ? "—" : formatAge(this.now - p.issuedAt), "num"],
      [String(p.powDifficulty), "num"],
      [p.code, "code mono", p.message],
      [p.learnedFrom ? shortOnion(p.learnedFrom) : "direct", "mono", p.learnedFrom || "The list's source met this peer directly"],
    ];
    for (const [text, cls, title] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      if (title) td.title = title;
      tr.append(td);
    }
    if (!p.ok) {
      const msg = document.createElement("div");
      msg.className = "reason";
      msg.textContent = p.message;
      tr.cells[6].append(msg);
    }
    return tr;
  }

  private render(): void {
    const gen = ++this.generation;
    const order = this.visible();
    const total = this.peers.filter((p) => p.hasRecord).length;
    this.countLabel.textContent = order.length === total ? `${total} peers` : `${order.length} of ${total} peers`;
    this.body.replaceChildren();
    this.table.dataset.rendering = "true";
    let at = 0;
    const step = () => {
      if (gen !== this.generation) return;
      const frag = document.createDocumentFragment();
      const end = Math.min(at + CHUNK, order.length);
      for (; at < end; at++) frag.append(this.row(order[at]));
      this.body.append(frag);
      if (at < order.length) {
        setTimeout(step, 0);
      } else {
        this.table.dataset.rendering = "false";
        this.onRendered(order.length);
      }
    };
    step();
  }
}
