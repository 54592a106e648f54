// Console errors and uncaught exceptions of a Chromium page, for the
// "no console errors" rule of the dashboard (issue 7): every browser test
// collects them from the page's first moment and asserts at its end that
// none but the ones it expects happened.
import assert from "node:assert/strict";

/**
 * Starts collecting `page`'s console errors (with the URL Chromium
 * attributes each to) and uncaught exceptions. Call before `goto`.
 */
export function watchErrors(page) {
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push({ kind: "console", text: m.text(), url: m.location()?.url ?? "" });
  });
  page.on("pageerror", (e) => errors.push({ kind: "pageerror", text: String(e?.stack ?? e), url: "" }));
  page.on("crash", () => errors.push({ kind: "crash", text: "the page crashed", url: "" }));
  return errors;
}

/**
 * Chromium's own console line for a resource that failed to load. Narrow on
 * purpose: the line must be exactly Chromium's wording, with `detail` (a
 * net:: error or an HTTP status), and be attributed to `url` exactly.
 */
export function failedToLoad(url, detail) {
  const escaped = detail.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return { kind: "console", url, text: new RegExp(`^Failed to load resource: ${escaped}$`) };
}

/** The fetch of a node that is not listening (connection refused). */
export const refused = (url) => failedToLoad(url, "net::ERR_CONNECTION_REFUSED");
/** A 404 from a plain static host probed for `/v1/peers`. */
export const notFound = (url) => failedToLoad(url, "the server responded with a status of 404 (Not Found)");

/**
 * Fails unless every collected error matches one of `allowed` (each
 * `{kind, url, text: RegExp}`), and — so an allowance cannot hide that the
 * expected failure never happened or changed shape — every allowance was
 * used when `mustHappen` is true.
 */
export function assertNoUnexpectedErrors(errors, allowed = [], { mustHappen = true } = {}) {
  const matches = (e, a) => e.kind === a.kind && e.url === a.url && a.text.test(e.text);
  const unexpected = errors.filter((e) => !allowed.some((a) => matches(e, a)));
  assert.deepEqual(unexpected, [], `unexpected console errors or page errors:\n${JSON.stringify(unexpected, null, 2)}`);
  if (mustHappen) {
    for (const a of allowed) {
      assert.ok(errors.some((e) => matches(e, a)), `expected a console error ${a.text} from ${a.url}; got ${JSON.stringify(errors)}`);
    }
  }
}
