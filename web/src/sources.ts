// Getting peer lists into the page: node URLs and dropped or pasted files.
import type { SourceInput } from "./types";

export type Format = "json" | "binary";

/** Why an input could not be read, in words for the page. */
export class SourceError extends Error {
  constructor(
    readonly code: "unreachable" | "http_status" | "bad_url" | "empty",
    message: string,
  ) {
    super(message);
  }
}

/**
 * "127.0.0.1:8686", "http://host:8686", "http://host:8686/v1/peers" all mean
 * that node's peer list; a URL with another path is taken as given.
 */
export function peersUrl(input: string, base: string): string {
  let text = input.trim();
  if (!text) throw new SourceError("bad_url", "Empty node URL.");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !text.startsWith("/")) text = `http://${text}`;
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new SourceError("bad_url", `Not a URL: ${input}`);
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1/peers";
  return url.toString();
}

/** GETs a node's list; the worker decodes JSON text or protobuf bytes alike. */
export async function fetchList(url: string, format: Format, signal: AbortSignal): Promise<SourceInput> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: format === "binary" ? "application/x-protobuf" : "application/json" },
      cache: "no-store",
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new SourceError("unreachable", `Node unreachable: ${url} (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!response.ok) {
    throw new SourceError("http_status", `HTTP ${response.status} ${response.statusText} from ${url}`);
  }
  const type = response.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await response.text() : classify(new Uint8Array(await response.arrayBuffer()));
  return { id: url, data };
}

/** Text that looks like JSON goes as a string, anything else as protobuf bytes. */
export function classify(bytes: Uint8Array): string | Uint8Array {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  if (bytes[i] === 0x7b /* { */) return new TextDecoder().decode(bytes);
  return bytes;
}

export async function readFile(file: File): Promise<SourceInput> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.length === 0) throw new SourceError("empty", `${file.name} is empty.`);
  return { id: `file:${file.name}`, data: classify(bytes) };
}
