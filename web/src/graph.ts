// The peer graph, drawn on a 2D canvas.
//
// Why canvas 2D and not SVG or WebGL: thousands of SVG elements make every
// layout frame a long main-thread task, and WebGL needs a GPU or a software
// rasteriser that headless and locked-down browsers often lack. Canvas 2D
// draws 5,000 nodes and edges in a few milliseconds by batching each style
// into one Path2D, everywhere. Positions come from the worker's d3-force.
import type { Peer } from "./types";

const TTL_SECS = 24 * 3600;
/** Least time between frames while a big layout streams in. */
const LAYOUT_FRAME_MS = 400;

export const COLORS = {
  online: "#23804a",
  unknown: "#2b6cb0",
  failed: "#c53030",
  graphOnly: "#8a94a6",
  edge: "rgba(90, 100, 120, 0.28)",
  edgeSelected: "#d97706",
  selected: "#111827",
};

interface Transform {
  k: number;
  x: number;
  y: number;
}

export class PeerGraph {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private peers: Peer[] = [];
  private edges: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private xy: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private nowUnix = 0;
  private selected = -1;
  private view: Transform = { k: 1, x: 0, y: 0 };
  /** Keep fitting the whole graph into view until the user zooms or pans. */
  private autoFit = true;
  private frame = 0;
  private drawnOnce = false;
  private lastDraw = 0;

  /** Called with a node index when the user picks a node (or -1). */
  onSelect: (index: number) => void = () => {};
  /** Called after the first frame that shows a new data set. */
  onFirstDraw: (nodeCount: number) => void = () => {};

  constructor(private readonly container: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Peer graph. Arrow keys pan, plus and minus zoom, 0 fits the whole graph.");
    container.append(this.canvas);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("This browser has no 2D canvas.");
    this.ctx = ctx;
    new ResizeObserver(() => this.resize()).observe(container);
    this.bindInput();
    this.resize();
  }

  setData(peers: Peer[], edges: Uint32Array, xy: Float32Array, nowUnix: number): void {
    const selectedOnion = this.peers[this.selected]?.onion;
    this.peers = peers;
    this.edges = edges;
    this.xy = xy;
    this.nowUnix = nowUnix;
    this.selected = selectedOnion ? peers.findIndex((p) => p.onion === selectedOnion) : -1;
    this.drawnOnce = false;
    this.container.dataset.layout = "running";
    this.schedule();
  }

  setPositions(xy: Float32Array, done: boolean): void {
    if (xy.length !== this.peers.length * 2) return;
    this.xy = xy;
    if (done) this.container.dataset.layout = "done";
    this.schedule();
  }

  /** Positions by onion, handed back to the worker so a refresh keeps the picture. */
  positions(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    this.peers.forEach((p, i) => {
      out[p.onion] = [this.xy[2 * i], this.xy[2 * i + 1]];
    });
    return out;
  }

  select(index: number): void {
    this.selected = index;
    this.schedule();
  }

  fit(): void {
    this.autoFit = true;
    this.schedule();
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const { clientWidth, clientHeight } = this.container;
    this.canvas.width = Math.max(1, Math.round(clientWidth * dpr));
    this.canvas.height = Math.max(1, Math.round(clientHeight * dpr));
    this.canvas.style.width = `${clientWidth}px`;
    this.canvas.style.height = `${clientHeight}px`;
    this.schedule();
  }

  /**
   * One draw per animation frame at most; while a big graph is still being
   * laid out, at most one per LAYOUT_FRAME_MS, so the page keeps most of its
   * main thread for input while positions stream in.
   */
  private schedule(): void {
    if (this.frame) return;
    const wait = this.container.dataset.layout === "running" && this.peers.length > 1500 && this.drawnOnce
      ? Math.max(0, this.lastDraw + LAYOUT_FRAME_MS - performance.now())
      : 0;
    this.frame = -1;
    const run = () => {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.lastDraw = performance.now();
        this.draw();
      });
    };
    if (wait > 0) setTimeout(run, wait);
    else run();
  }

  private fitView(): void {
    const n = this.peers.length;
    if (n === 0) return;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = this.xy[2 * i];
      const y = this.xy[2 * i + 1];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const w = this.canvas.clientWidth || 1;
    const h = this.canvas.clientHeight || 1;
    const pad = 24;
    const k = Math.min((w - 2 * pad) / Math.max(maxX - minX, 1), (h - 2 * pad) / Math.max(maxY - minY, 1), 4);
    this.view = { k, x: w / 2 - ((minX + maxX) / 2) * k, y: h / 2 - ((minY + maxY) / 2) * k };
  }

  private draw(): void {
    const { ctx } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const n = this.peers.length;
    if (n === 0 || this.xy.length < n * 2) return;
    if (this.autoFit) this.fitView();
    const { k, x: tx, y: ty } = this.view;
    const sx = (i: number) => this.xy[2 * i] * k + tx;
    const sy = (i: number) => this.xy[2 * i + 1] * k + ty;

    const edgePath = new Path2D();
    const selectedEdges = new Path2D();
    for (let e = 0; e + 1 < this.edges.length; e += 2) {
      const a = this.edges[e];
      const b = this.edges[e + 1];
      const path = a === this.selected || b === this.selected ? selectedEdges : edgePath;
      path.moveTo(sx(a), sy(a));
      path.lineTo(sx(b), sy(b));
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = COLORS.edge;
    ctx.stroke(edgePath);
    ctx.lineWidth = 2;
    ctx.strokeStyle = COLORS.edgeSelected;
    ctx.stroke(selectedEdges);

    // One path per (colour, filled, opacity bucket): a handful of fill calls
    // however many peers there are.
    const groups = new Map<string, { path: Path2D; color: string; filled: boolean; alpha: number }>();
    const scale = Math.min(Math.max(Math.sqrt(k), 0.6), 2);
    for (let i = 0; i < n; i++) {
      const p = this.peers[i];
      const color = !p.hasRecord ? COLORS.graphOnly : !p.ok ? COLORS.failed : p.status === "PEER_STATUS_ONLINE" ? COLORS.online : COLORS.unknown;
      const filled = p.status !== "PEER_STATUS_OFFLINE";
      const age = p.issuedAt === null ? TTL_SECS : Math.max(0, this.nowUnix - p.issuedAt);
      const alpha = Math.round(10 * (1 - 0.6 * Math.min(age / TTL_SECS, 1))) / 10;
      const key = `${color}|${filled}|${alpha}`;
      let g = groups.get(key);
      if (!g) {
        g = { path: new Path2D(), color, filled, alpha };
        groups.set(key, g);
      }
      const r = (p.hasRecord ? 2.5 + p.powDifficulty * 0.15 : 2) * scale;
      const x = sx(i);
      const y = sy(i);
      if (p.role === "ROLE_ROUTER") {
        g.path.moveTo(x - r, y - r);
        g.path.rect(x - r, y - r, 2 * r, 2 * r);
      } else {
        g.path.moveTo(x + r, y);
        g.path.arc(x, y, r, 0, 2 * Math.PI);
      }
    }
    for (const g of groups.values()) {
      ctx.globalAlpha = g.alpha;
      if (g.filled) {
        ctx.fillStyle = g.color;
        ctx.fill(g.path);
      } else {
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = g.color;
        ctx.stroke(g.path);
      }
    }
    ctx.globalAlpha = 1;
    if (this.selected >= 0 && this.selected < n) {
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = COLORS.selected;
      ctx.beginPath();
      ctx.arc(sx(this.selected), sy(this.selected), 9 * scale, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (!this.drawnOnce) {
      this.drawnOnce = true;
      this.onFirstDraw(n);
    }
  }

  private nearest(px: number, py: number): number {
    const { k, x: tx, y: ty } = this.view;
    let best = -1;
    let bestD = 12 * 12;
    for (let i = 0; i < this.peers.length; i++) {
      const dx = this.xy[2 * i] * k + tx - px;
      const dy = this.xy[2 * i + 1] * k + ty - py;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  private zoom(factor: number, cx: number, cy: number): void {
    this.autoFit = false;
    const k = Math.min(Math.max(this.view.k * factor, 0.02), 40);
    const f = k / this.view.k;
    this.view = { k, x: cx - (cx - this.view.x) * f, y: cy - (cy - this.view.y) * f };
    this.schedule();
  }

  private bindInput(): void {
    const c = this.canvas;
    let drag: { x: number; y: number; moved: boolean } | null = null;
    c.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      this.autoFit = false;
      this.view = { ...this.view, x: this.view.x + dx, y: this.view.y + dy };
      drag.x = e.clientX;
      drag.y = e.clientY;
      this.schedule();
    });
    c.addEventListener("pointerup", (e) => {
      const wasDrag = drag?.moved;
      drag = null;
      if (wasDrag) return;
      const rect = c.getBoundingClientRect();
      const i = this.nearest(e.clientX - rect.left, e.clientY - rect.top);
      this.select(i);
      this.onSelect(i);
    });
    c.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const rect = c.getBoundingClientRect();
        this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
      },
      { passive: false },
    );
    c.addEventListener("keydown", (e) => {
      const w = c.clientWidth / 2;
      const h = c.clientHeight / 2;
      const pan = (dx: number, dy: number) => {
        this.autoFit = false;
        this.view = { ...this.view, x: this.view.x + dx, y: this.view.y + dy };
        this.schedule();
      };
      switch (e.key) {
        case "+":
        case "=":
          this.zoom(1.25, w, h);
          break;
        case "-":
          this.zoom(0.8, w, h);
          break;
        case "0":
          this.fit();
          break;
        case "ArrowLeft":
          pan(40, 0);
          break;
        case "ArrowRight":
          pan(-40, 0);
          break;
        case "ArrowUp":
          pan(0, 40);
          break;
        case "ArrowDown":
          pan(0, -40);
          break;
        default:
          return;
      }
      e.preventDefault();
    });
  }
}
