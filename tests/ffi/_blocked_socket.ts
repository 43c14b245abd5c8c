// Lab peer for socket_test.ts, run inside the sender namespace of `blockedEgress()`
// (../lib/_lab_peers.ts): a connected UDP socket with a 4 KiB SO_SNDBUF sends 64-byte datagrams
// into a qdisc that never drains until sendDatagram reports EAGAIN (-1), checks that poll sees
// no room, prints "waiting", and once the test has deleted the qdisc waits for POLLOUT (20 s at
// most) and sends again. Steps: "full", "waiting", "unblocked".
//
//   deno run --allow-all _blocked_socket.ts <group> <port>

import { PLATFORM as P } from "../../ffi/constants.ts";
import {
  closeFd,
  connectTo,
  getIntOption,
  openUdpSocket,
  sendDatagram,
  setIntOption,
  waitForFd,
} from "../../ffi/socket.ts";
import { emit } from "../lib/_peer_report.ts";

const [group, portText] = Deno.args;
const payload = new Uint8Array(64).fill(0x33);
const fd = openUdpSocket("IPv4");
try {
  setIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF, 4096, "SO_SNDBUF");
  connectTo(fd, { address: group, port: Number(portText) });
  const results = new Set<number>();
  let sent = 0;
  let last = 0;
  for (let i = 0; i < 10_000; i++) {
    last = sendDatagram(fd, payload);
    results.add(last);
    if (last === -1) break;
    sent++;
  }
  const pollWhileFull = await waitForFd(fd, P.POLLOUT, 200);
  const sendWhileFull = sendDatagram(fd, payload);
  emit("full", { sent, last, results: [...results], pollWhileFull, sendWhileFull });
  emit("waiting", {});
  const pollAfter = await waitForFd(fd, P.POLLOUT, 20_000);
  emit("unblocked", {
    pollAfter,
    sendAfter: sendDatagram(fd, payload),
    sndbuf: getIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF, "SO_SNDBUF"),
  });
} finally {
  closeFd(fd);
}
