// The sortable, filterable peer table.
//
// Every peer is a real row in the DOM (so find-in-page, screen readers and
// the test hooks see all of them), built in chunks of a few hundred per task.
// Rows are ARIA table rows on CSS grid rather than <tr>: a <table> re-lays
// out every row as rows arrive (seconds at 5,000). Rows go in blocks of
// CHUNK, each block a rowgroup with `content-visibility: auto`, so blocks off
// screen cost no style, layout or paint (one visibility check per block, not
// per row).
import { formatAge, roleLabel, shortOnion, statusLabel } from "./format";
import type { Peer } from "./types";

export type SortKey = "verified" | "onion" | "role" | "status" | "age" | "pow" | "code" | "learnedFrom";

export interface Filter {
  text: string;
  verdict: "all" | "pass" | "fail";
  role: string;
  status: string;
}

const CHUNK = 100;
/** Column positions (index.html's header order). */
const REASON_CELL = 2;
const AGE_CELL = 5;

/** Code-point order: the sorted values are ASCII identifiers, and ICU collation is slow at 5,000 rows. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(a: Peer, b: Peer, key: SortKey, now: number): number {
  switch (key) {
    case "verified":
      return Number(a.ok) - Number(b.ok);
    case "onion":
      return byText(a.onion, b.onion);
    case "role":
      return byText(a.role, b.role);
    case "status":
      return byText(a.status, b.status);
    case "age":
      return (now - (a.issuedAt ?? 0)) - (now - (b.issuedAt ?? 0));
    case "pow":
      return a.powDifficulty - b.powDifficulty;
    case "code":
      return byText(a.code, b.code);
    case "learnedFrom":
      return byText(a.learnedFrom, b.learnedFrom);
  }
}

export class PeerTable {
  private peers: Peer[] = [];
  private now = 0;
  private sort: { key: SortKey; dir: 1 | -1 } = { key: "verified", dir: 1 };
  private filter: Filter = { text: "", verdict: "all", role: "", status: "" };
  private generation = 0;
  private selectedOnion = "";
  /** Rows in the DOM, in display order. */
  private rendered: Array<{ onion: string; sig: string; el: HTMLElement }> = [];

  /** Called with the peer's index in the data set when a row is chosen. */
  onSelect: (index: number) => void = () => {};
  /** Called when every visible row is in the DOM. */
  onRendered: (shown: number) => void = () => {};

  constructor(
    private readonly table: HTMLElement,
    private readonly body: HTMLElement,
    private readonly countLabel: HTMLElement,
  ) {
    for (const button of table.querySelectorAll<HTMLButtonElement>("[role=columnheader] button[data-sort]")) {
      button.addEventListener("click", () => this.sortBy(button.dataset.sort as SortKey));
    }
    body.addEventListener("click", (e) => this.pick(e.target));
    body.addEventListener("keydown", (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>("[role=row]");
      if (!row) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.pick(row);
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const down = e.key === "ArrowDown";
        const block = row.parentElement;
        const next = (down ? row.nextElementSibling : row.previousElementSibling) ??
          (down ? block?.nextElementSibling?.firstElementChild : block?.previousElementSibling?.lastElementChild);
        (next as HTMLElement | null)?.focus();
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
    for (const row of this.body.querySelectorAll<HTMLElement>("[aria-current='true']")) {
      row.removeAttribute("aria-current");
    }
    const row = this.body.querySelector<HTMLElement>(`[data-onion="${CSS.escape(onion)}"]`);
    if (row) {
      row.setAttribute("aria-current", "true");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  private pick(target: EventTarget | null): void {
    const row = (target as HTMLElement | null)?.closest<HTMLElement>("[data-index]");
    if (!row) return;
    this.onSelect(Number(row.dataset.index));
  }

  private sortBy(key: SortKey): void {
    this.sort = this.sort.key === key ? { key, dir: this.sort.dir === 1 ? -1 : 1 } : { key, dir: 1 };
    this.updateSortHeaders();
    this.render();
  }

  private updateSortHeaders(): void {
    for (const th of this.table.querySelectorAll<HTMLElement>("[role=columnheader][data-col]")) {
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
    out.sort((a, b) => dir * compare(this.peers[a], this.peers[b], key, this.now) || byText(this.peers[a].onion, this.peers[b].onion));
    return out;
  }

  private row(i: number): HTMLElement {
    const p = this.peers[i];
    const tr = document.createElement("div");
    tr.setAttribute("role", "row");
    tr.dataset.testid = "peer-row";
    tr.dataset.onion = p.onion;
    tr.dataset.verified = String(p.ok);
    tr.dataset.code = p.code;
    tr.dataset.index = String(i);
    tr.tabIndex = 0;
    if (p.onion === this.selectedOnion) tr.setAttribute("aria-current", "true");
    tr.className = `prow ${p.ok ? "pass" : "fail"}`;
    const cells: Array<[string, string, string?]> = [
      [p.ok ? "✓ pass" : "✗ fail", "verdict"],
      [shortOnion(p.onion), "onion mono", p.onion],
      [p.code, "code mono", p.message],
      [roleLabel(p.role), ""],
      [statusLabel(p.status), `status ${p.status}`],
      [p.issuedAt === null ? "—" : formatAge(this.now - p.issuedAt), "num"],
      [String(p.powDifficulty), "num"],
      [p.learnedFrom ? shortOnion(p.learnedFrom) : "direct", "mono", p.learnedFrom || "The list's source met this peer directly"],
    ];
    for (const [text, cls, title] of cells) {
      const td = document.createElement("div");
      td.setAttribute("role", "cell");
      td.textContent = text;
      if (cls) td.className = cls;
      if (title) td.title = title;
      tr.append(td);
    }
    if (!p.ok) {
      const msg = document.createElement("div");
      msg.className = "reason";
      msg.textContent = p.message;
      tr.children[REASON_CELL].append(msg);
    }
    return tr;
  }

  /** What a row shows apart from its age, to tell whether a refresh changed it. */
  private signature(p: Peer): string {
    return `${p.onion}|${p.ok}|${p.code}|${p.role}|${p.status}|${p.issuedAt}|${p.powDifficulty}|${p.learnedFrom}`;
  }

  /**
   * A live refresh usually brings the same rows in the same order: then rows
   * are patched in place (ages, changed rows), so the scroll position, focus
   * and selection survive. Anything else rebuilds the rows in chunks.
   */
  private render(): void {
    const gen = ++this.generation;
    const order = this.visible();
    const total = this.peers.filter((p) => p.hasRecord).length;
    this.countLabel.textContent = order.length === total ? `${total} peers` : `${order.length} of ${total} peers`;
    const sigs = order.map((i) => this.signature(this.peers[i]));
    const samePlaces =
      this.table.dataset.rendering === "false" &&
      this.rendered.length === order.length &&
      order.every((i, k) => this.rendered[k].onion === this.peers[i].onion);
    if (samePlaces) {
      order.forEach((i, k) => {
        const el = this.rendered[k].el;
        if (this.rendered[k].sig !== sigs[k]) {
          const fresh = this.row(i);
          el.replaceWith(fresh);
          this.rendered[k] = { onion: this.peers[i].onion, sig: sigs[k], el: fresh };
        } else {
          const p = this.peers[i];
          el.dataset.index = String(i);
          el.children[AGE_CELL].textContent = p.issuedAt === null ? "—" : formatAge(this.now - p.issuedAt);
        }
      });
      this.onRendered(order.length);
      return;
    }
    this.rendered = [];
    this.body.replaceChildren();
    this.table.dataset.rendering = "true";
    let at = 0;
    const step = () => {
      if (gen !== this.generation) return;
      const block = document.createElement("div");
      block.setAttribute("role", "rowgroup");
      block.className = "rowblock";
      const end = Math.min(at + CHUNK, order.length);
      for (; at < end; at++) {
        const el = this.row(order[at]);
        this.rendered.push({ onion: this.peers[order[at]].onion, sig: sigs[at], el });
        block.append(el);
      }
      this.body.append(block);
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
