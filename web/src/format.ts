// Small, pure formatting helpers for people.

export function shortOnion(onion: string): string {
  return onion.length > 24 ? `${onion.slice(0, 10)}…${onion.slice(-16)}` : onion;
}

/** "42 s", "7 min", "3 h 5 min", "2 d"; negative ages are "in the future". */
export function formatAge(secs: number): string {
  if (!Number.isFinite(secs)) return "—";
  if (secs < 0) return `${formatAge(-secs)} ahead`;
  if (secs < 60) return `${Math.floor(secs)} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ${Math.floor((secs % 3600) / 60)} min`;
  return `${Math.floor(secs / 86400)} d`;
}

export function roleLabel(role: string): string {
  return role === "ROLE_ROUTER" ? "router" : role === "ROLE_PARTICIPANT" ? "participant" : "unspecified";
}

export function statusLabel(status: string): string {
  return status === "PEER_STATUS_ONLINE" ? "online" : status === "PEER_STATUS_OFFLINE" ? "offline" : "unknown";
}

export function unixDate(secs: number | null): string {
  if (secs === null || secs === 0) return "—";
  return new Date(secs * 1000).toISOString().replace(".000Z", "Z");
}
