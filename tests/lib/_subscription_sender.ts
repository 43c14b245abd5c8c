/**
 * Private test helper, run inside lab namespaces by `subscription_lab_test.ts`: sends exactly
 * `--count` MCAS datagrams to a group from one source address out of one interface, then exits.
 * Built on the socket seam only (through ../ffi/_sockets.ts), so the receiver tests do not depend
 * on the sender library.
 *
 * ```
 * deno run --allow-all _subscription_sender.ts <group> --source <address> --interface <name>
 *     [--port 19779] [--count 50] [--ttl 8] [--dscp 0] [--size 200] [--interval-ms 2]
 *     [--sockets 1]
 * ```
 *
 * With `--sockets K` the datagrams go out round-robin over K sockets (K source ports) of one
 * sender id, so a receiver sees several 4-tuples from the one source.
 *
 * Prints one JSON line `{ "sent", "sender_id", "source" }` and exits 0; any failure exits 1.
 *
 * @module
 */

import { formatSenderId, McasEncoder } from "../../lib/mcas.ts";
import { monotonicNs } from "../../ffi/clock.ts";
import { interfaceIndex } from "../../ffi/interfaces.ts";
import type { UdpSocket } from "../../ffi/socket.ts";
import { openMulticastSender } from "../ffi/_sockets.ts";

const [group, ...rest] = Deno.args;
const options = new Map<string, string>();
for (let i = 0; i + 1 < rest.length; i += 2) options.set(rest[i].replace(/^--/, ""), rest[i + 1]);
const source = options.get("source");
const ifaceName = options.get("interface");
if (!group || !source || !ifaceName) {
  console.error("usage: _subscription_sender.ts <group> --source A --interface I [--count N] …");
  Deno.exit(2);
}
const port = Number(options.get("port") ?? 19779);
const count = Number(options.get("count") ?? 50);
const ttl = Number(options.get("ttl") ?? 8);
const dscp = Number(options.get("dscp") ?? 0);
const size = Number(options.get("size") ?? 200);
const intervalMs = Number(options.get("interval-ms") ?? 2);
const ifindex = interfaceIndex(ifaceName);
if (ifindex === 0) throw new Error(`No interface ${ifaceName}`);

const sockets: UdpSocket[] = [];
try {
  // Each a connected sender from `source`, out of the interface, on its own ephemeral port.
  for (let k = 0; k < Number(options.get("sockets") ?? 1); k++) {
    sockets.push(
      openMulticastSender({ group, port, source, ifindex, ttl, tos: dscp << 2, loop: false }),
    );
  }
  const encoder = new McasEncoder(size, { ttl, dscp });
  for (let sequence = 0; sequence < count; sequence++) {
    const datagram = encoder.encode(BigInt(sequence), monotonicNs());
    const socket = sockets[sequence % sockets.length];
    if (socket.send(datagram) !== datagram.length) throw new Error("Short send");
    if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  console.log(JSON.stringify({ sent: count, sender_id: formatSenderId(encoder.senderId), source }));
} finally {
  for (const socket of sockets) socket.close();
}
