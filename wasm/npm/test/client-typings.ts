// `tsc --noEmit` over the client's typings (see typings.ts for the rules):
// each `@ts-expect-error` is a misuse the compiler must refuse.
import {
  connect,
  SseParser,
  TorPeerApiError,
  type ApiErrorCode,
  type EventStream,
  type NodeStatus,
  type Peer,
  type PeerListJson,
  type SendResult,
  type TorPeerClient,
  type TorPeerEvent,
} from "torpeer/client";

async function use(): Promise<void> {
  const node: TorPeerClient = await connect("http://127.0.0.1:8686", "token");
  const onion: string = node.onion;
  const sent: SendResult = await node.send(onion, "text");
  await node.send(onion, new Uint8Array([1, 2]));
  await node.send(onion, new ArrayBuffer(4));
  const peers: Peer[] = await node.peers({ role: "router", online: true, max: 5 });
  const role: "participant" | "router" | "unknown" = peers[0].role;
  const list: PeerListJson = await node.peerList();
  const status: NodeStatus = await node.status();
  const stream: EventStream = node.events({ signal: new AbortController().signal });
  await stream.opened;
  for await (const event of stream) {
    const e: TorPeerEvent = event;
    if (event.type === "message") {
      const bytes: Uint8Array = event.data;
      const from: string = event.from;
      void [bytes, from];
    } else {
      const s: "discovered" | "online" | "offline" | "updated" = event.status;
      void s;
      // @ts-expect-error peer events carry no data
      void event.data;
    }
    void e;
  }
  await stream.close();
  try {
    await node.send(onion, "x");
  } catch (e) {
    if (e instanceof TorPeerApiError) {
      const code: ApiErrorCode = e.code;
      const http: number = e.status;
      void [code, http];
    }
  }
  const parsed: Array<{ type: string; data: string }> = new SseParser().push("data: x\n\n");
  // @ts-expect-error send needs bytes or a string
  await node.send(onion, 42);
  // @ts-expect-error the role filter is participant | router
  await node.peers({ role: "king" });
  // @ts-expect-error connect needs a token
  await connect("http://127.0.0.1:8686");
  // @ts-expect-error an error code is one of the known codes
  const notACode: ApiErrorCode = "fine";
  void [sent, role, list, status, parsed, notACode];
}
void use;
