export function decodePeerList(list: string | Uint8Array): unknown;
export function verifyPeerList(list: string | Uint8Array, options?: object): unknown[];
