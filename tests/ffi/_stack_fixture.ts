// Runs inside a lab namespace for stack_test.ts, using only the socket seam (through the shared
// helpers of _sockets.ts) and the codec.
//   send <group> <port> <source> <ttl> <dscp> <count>   → sends MCAS datagrams, prints "sent N"
//   receive <group> <port> <source> <iface> <count> <ms> → SSM join, receive, one JSON line each

import { PLATFORM as P } from "../../ffi/constants.ts";
import { interfaceIndex } from "../../ffi/interfaces.ts";
import { ReceivedMetadata } from "../../ffi/msghdr.ts";
import { ReceivedBatch } from "../../ffi/received_batch.ts";
import { formatAddress } from "../../lib/address.ts";
import { resolveInterface } from "../../lib/interfaces.ts";
import { McasEncoder } from "../../lib/mcas.ts";
import { openMulticastReceiver, openMulticastSender } from "./_sockets.ts";

const [mode, group, portText, source, ...rest] = Deno.args;
const port = Number(portText);

if (mode === "send") {
  const [ttl, dscp, count] = rest.map(Number);
  const ifindex = resolveInterface(source).index;
  using socket = openMulticastSender({ group, port, source, ifindex, ttl, tos: dscp << 2 });
  const encoder = new McasEncoder(120, { ttl, dscp, senderId: 0x0123456789abcdefn });
  let sent = 0;
  for (let sequence = 0; sequence < count; sequence++) {
    if (socket.send(encoder.encode(BigInt(sequence), 1000n + BigInt(sequence))) === 120) sent++;
  }
  console.log(`sent ${sent}`);
} else if (mode === "receive") {
  const [iface, countText, msText] = rest;
  using socket = openMulticastReceiver({ group, port, ifindex: interfaceIndex(iface), source });
  console.log("ready");
  const batch = new ReceivedBatch(1, 2048, { formatAddress });
  const meta = new ReceivedMetadata();
  const deadline = Date.now() + Number(msText);
  let got = 0;
  while (got < Number(countText) && Date.now() < deadline) {
    if (socket.receiveBatch(batch) === 0) {
      await socket.wait(P.POLLIN, 200);
      continue;
    }
    batch.metadata(0, meta);
    const bytes = meta.destinationFamily === "IPv4" ? 4 : 16;
    console.log(JSON.stringify({
      source: batch.sourceAddress(0),
      ttl: meta.ttl,
      tos: meta.tos,
      destination: formatAddress(meta.destination.subarray(0, bytes)),
      payload: Array.from(batch.payload(0), (b) => b.toString(16).padStart(2, "0")).join(""),
    }));
    got++;
  }
}
