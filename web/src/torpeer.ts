// The part of the `torpeer` npm package the dashboard uses, and its loader.
//
// The package is the Rust core built for wasm32 with wasm-bindgen; all
// verification happens there, none in this TypeScript. These interfaces
// mirror the package's typings (proto3 JSON shapes) for the fields read here,
// so the dashboard type-checks against any build of the package.
import * as pkg from "torpeer/web";

export interface PeerRecordJson {
  onion?: string;
  network?: string;
  role?: string;
  ports?: number[];
  issuedAt?: string;
  sequence?: string;
  powDifficulty?: number;
  powNonce?: string;
  tcpEndpoint?: string;
  signature?: string;
}

export interface PeerEntryJson {
  record?: PeerRecordJson;
  status?: string;
  lastSeen?: string;
  learnedFrom?: string;
}

export interface PeerListJson {
  network?: string;
  source?: string;
  generatedAt?: string;
  peers?: PeerEntryJson[];
}

export interface Verdict {
  ok: boolean;
  code: string;
  message: string;
  record: PeerRecordJson | null;
}

export interface Torpeer {
  decodePeerList(list: string | Uint8Array): PeerListJson;
  verifyPeerList(
    list: string | Uint8Array,
    options: { network?: string; nowUnix?: number; minDifficulty?: number },
  ): Verdict[];
}

/**
 * Instantiates the package's wasm once. `torpeer/web` is the package's
 * `--target web` build: an ES module whose async `default` init fetches the
 * .wasm beside it via `new URL(..., import.meta.url)`, which Vite copies into
 * dist/ as an asset — no bundler wasm plugin needed (the package's default
 * browser entry is the `bundler` build, which Vite cannot load without one).
 */
export async function loadTorpeer(): Promise<Torpeer> {
  const mod = pkg as unknown as Torpeer & { default?: unknown };
  if (typeof mod.default === "function") {
    await (mod.default as () => Promise<unknown>)();
  }
  return mod;
}
