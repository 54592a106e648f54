// Compiled with `tsc --noEmit` against the installed package: the typings
// must describe the API precisely. Each `@ts-expect-error` below is a misuse
// the compiler has to refuse; were a parameter typed `any`, the directive
// would be unused and tsc would fail.
import {
  decodePeerList,
  decodeRecord,
  encodePeerList,
  networkDefaults,
  parseOnion,
  solvePow,
  verifyPeerList,
  verifyPow,
  verifyRecord,
  type ErrorCode,
  type PeerEntry,
  type PeerList,
  type PeerRecord,
  type PeerVerdict,
  type TorpeerError,
  type VerifyCode,
  type VerifyResult,
} from "torpeer";
import init, { initSync, verifyRecord as verifyRecordWeb } from "torpeer/web";

const record: PeerRecord = {
  onion: "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
  role: "ROLE_PARTICIPANT",
  ports: [80],
  issuedAt: "1800000000",
  powNonce: "42",
};
const result: VerifyResult = verifyRecord(record, { network: "torpeer", nowUnix: 1_800_000_000n });
const code: VerifyCode = result.code;
const ok: boolean = result.ok;
verifyRecord(JSON.stringify(record));
verifyRecord(new Uint8Array(8), { minDifficulty: 12 });

const list: PeerList = { network: "torpeer", peers: [{ record, status: "PEER_STATUS_ONLINE" }] };
const verdicts: PeerVerdict[] = verifyPeerList(list);
const first: PeerRecord | null = verdicts[0].record;
const entries: PeerEntry[] | undefined = decodePeerList(encodePeerList(list)).peers;
const decoded: PeerRecord = decodeRecord("{}");

const { onion, publicKey }: { onion: string; publicKey: string } = parseOnion(record.onion!);
const valid: boolean = verifyPow({ onion, nonce: 1n, difficulty: 8 });
const solved: string = solvePow({ onion, difficulty: 4, maxHashes: 1000 }).nonce;
const minDifficulty: number = networkDefaults().minDifficulty;

try {
  parseOnion("nope");
} catch (e) {
  const errorCode: ErrorCode = (e as TorpeerError).code;
  void errorCode;
}

// @ts-expect-error role is an enum name, not any string
const badRole: PeerRecord = { role: "ROLE_KING" };
// @ts-expect-error nonce is number | string | bigint
verifyPow({ onion, nonce: {}, difficulty: 8 });
// @ts-expect-error difficulty is required
solvePow({ onion });
// @ts-expect-error options are typed
verifyRecord(record, { netwrok: "torpeer" });
// @ts-expect-error a verdict's code is one of the known codes
const notACode: VerifyCode = "fine";
// @ts-expect-error parseOnion takes a string
parseOnion(42);

// The no-bundler build needs init() (or initSync) first.
async function browserStart(): Promise<VerifyResult> {
  await init();
  return verifyRecordWeb(record);
}
void initSync;
void [code, ok, first, entries, decoded, publicKey, valid, solved, minDifficulty, badRole, notACode, browserStart];
