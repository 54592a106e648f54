// DEVELOPMENT STUB of the `torpeer` package, for laying out the page before
// the real wasm build exists. It checks a few shapes and VERIFIES NOTHING:
// no signature, no PoW. The tests and CI install the real package instead.
function parse(input) {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw Object.assign(new Error(`stub: not JSON: ${e.message}`), { code: "invalid_json" });
  }
}
export function decodePeerList(input) {
  return parse(input);
}
export function verifyPeerList(input, options = {}) {
  const list = parse(input);
  const now = Number(options.nowUnix ?? Date.now() / 1000);
  return (list.peers ?? []).map((entry) => {
    const r = entry.record ?? null;
    const v = (ok, code, message) => ({ ok, code, message, record: r });
    if (!r || !/^[a-z2-7]{56}\.onion$/.test(r.onion ?? "")) return v(false, "malformed_address", "stub: bad onion");
    if (options.network && r.network !== options.network) return v(false, "wrong_network", "stub: network differs");
    if (now > Number(r.issuedAt ?? 0) + 86400) return v(false, "expired", "stub: older than 24 h");
    return v(true, "ok", "stub: shape only, NOT verified");
  });
}
