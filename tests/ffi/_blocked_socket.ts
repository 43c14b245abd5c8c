// Lab peer for socket_test.ts, run inside the sender namespace of `blockedEgress()`
// (../lib/_lab_peers.ts): a connected UdpSocket with a 4 KiB SO_SNDBUF sends 64-byte datagrams
// into a qdisc that never drains until send reports WOULD_BLOCK (-1), checks that wait sees no
// room, prints "waiting", and once the test has deleted the qdisc waits for POLLOUT (20 s at
// most) and sends again. Steps: "full", "waiting", "unblocked".
//
//   deno run --allow-all _blocked_socket.ts <group> <port>

import { PLATFORM as P } from "../../ffi/constants.ts";
import { UdpSocket, WOULD_BLOCK } from "../../ffi/socket.ts";
import { emit } from "../lib/_peer_report.ts";
import { connectTo } from "./_sockets.ts";

const [group, portText] = Deno.args;
const payload = new Uint8Array(64).fill(0x33);
using socket = UdpSocket.open("IPv4", { label: `${group}:${portText}` });
socket.setInt(P.SOL_SOCKET, P.SO_SNDBUF, 4096, "SO_SNDBUF");
connectTo(socket, group, Number(portText));
const results = new Set<number>();
let sent = 0;
let last = 0;
for (let i = 0; i < 10_000; i++) {
  last = socket.send(payload);
  results.add(last);
  if (last === WOULD_BLOCK) break;
  sent++;
}
const pollWhileFull = await socket.wait(P.POLLOUT, 200);
const sendWhileFull = socket.send(payload);
emit("full", { sent, last, results: [...results], pollWhileFull, sendWhileFull });
emit("waiting", {});
const pollAfter = await socket.wait(P.POLLOUT, 20_000);
emit("unblocked", {
  pollAfter,
  sendAfter: socket.send(payload),
  sndbuf: socket.getInt(P.SOL_SOCKET, P.SO_SNDBUF, "SO_SNDBUF"),
});
