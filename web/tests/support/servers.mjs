// Two loopback HTTP servers for the browser tests: one serves the built
// dashboard (web/dist) as plain static files, the other plays a node's HTTP
// API on another port (so every fetch is cross-origin and CORS is exercised).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".map": "application/json",
};

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

/**
 * Static files of `root`; 404 for anything else (as on a plain web host).
 * `routes` maps a path to a function returning a JSON-able body, to play a
 * node that serves the dashboard and its API on one origin.
 */
export async function staticServer(root, routes = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (routes[path]) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(routes[path]()));
      return;
    }
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  return { server, url: await listen(server) };
}

/**
 * A stand-in for a node's API: `GET /<name>/v1/peers` answers with the list
 * registered under `name` — proto3 JSON, or binary protobuf when the request
 * asks for `application/x-protobuf` and an encoder is given. A list may be a
 * function, called per request (for live-refresh tests).
 */
export async function apiServer({ encode } = {}) {
  const lists = new Map();
  const hits = new Map();
  const server = createServer((req, res) => {
    const cors = { "access-control-allow-origin": "*", "cache-control": "no-store" };
    const m = /^\/([\w-]+)\/v1\/peers$/.exec(new URL(req.url, "http://x").pathname);
    const entry = m && lists.get(m[1]);
    if (!entry) {
      res.writeHead(404, { ...cors, "content-type": "application/json" }).end('{"error":"not_found"}');
      return;
    }
    hits.set(m[1], (hits.get(m[1]) ?? 0) + 1);
    const value = typeof entry === "function" ? entry() : entry;
    if (typeof value === "string") {
      res.writeHead(200, { ...cors, "content-type": "application/json" }).end(value);
    } else if (encode && (req.headers.accept ?? "").includes("application/x-protobuf")) {
      res.writeHead(200, { ...cors, "content-type": "application/x-protobuf" }).end(Buffer.from(encode(value)));
    } else {
      res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify(value));
    }
  });
  const url = await listen(server);
  return { server, url, lists, hits };
}

/** A loopback port that was free a moment ago and has no listener now: connecting to it is refused. */
export async function closedPort() {
  const server = createServer();
  await listen(server);
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
