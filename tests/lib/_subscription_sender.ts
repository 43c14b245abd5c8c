/**
 * Private test helper, run inside lab namespaces by `subscription_lab_test.ts`: sends exactly
 * `--count` MCAS datagrams to a group from one source address out of one interface, then exits.
 * Built on the ffi wrappers only, so the receiver tests do not depend on the sender library.
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
import { PLATFORM } from "../../ffi/constants.ts";
import { ipMreqn } from "../../ffi/group_req.ts";
import { interfaceIndex } from "../../ffi/interfaces.ts";
import {
  bindTo,
  clockNs,
  closeFd,
  connectTo,
  openUdpSocket,
  sendDatagram,
  setIntOption,
  setStructOption,
} from "../../ffi/socket.ts";

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
const index = interfaceIndex(ifaceName);
if (index === 0) throw new Error(`No interface ${ifaceName}`);

const sockets = Number(options.get("sockets") ?? 1);
const v6 = group.includes(":");
const fds: number[] = [];
try {
  for (let k = 0; k < sockets; k++) fds.push(openSender());
  const encoder = new McasEncoder(size, { ttl, dscp });
  for (let sequence = 0; sequence < count; sequence++) {
    const datagram = encoder.encode(BigInt(sequence), clockNs(PLATFORM.CLOCK_MONOTONIC));
    const fd = fds[sequence % fds.length];
    if (sendDatagram(fd, datagram) !== datagram.length) throw new Error("Short send");
    if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  console.log(JSON.stringify({ sent: count, sender_id: formatSenderId(encoder.senderId), source }));
} finally {
  for (const fd of fds) closeFd(fd);
}

/** A connected sender socket from `source`, out of the interface, on its own ephemeral port. */
function openSender(): number {
  const fd = openUdpSocket(v6 ? "IPv6" : "IPv4", { nonBlocking: false });
  try {
    if (v6) {
      setIntOption(fd, PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_MULTICAST_IF, index, "IF");
      setIntOption(fd, PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_MULTICAST_HOPS, ttl, "HOPS");
      setIntOption(fd, PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_MULTICAST_LOOP, 0, "LOOP");
      setIntOption(fd, PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_TCLASS, dscp << 2, "IPV6_TCLASS");
    } else {
      setStructOption(
        fd,
        PLATFORM.IPPROTO_IP,
        PLATFORM.IP_MULTICAST_IF,
        ipMreqn("0.0.0.0", source!, index),
        { label: "IP_MULTICAST_IF", value: ifaceName },
      );
      setIntOption(fd, PLATFORM.IPPROTO_IP, PLATFORM.IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
      setIntOption(fd, PLATFORM.IPPROTO_IP, PLATFORM.IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
      setIntOption(fd, PLATFORM.IPPROTO_IP, PLATFORM.IP_TOS, dscp << 2, "IP_TOS");
    }
    bindTo(fd, { address: source!, port: 0 });
    // Link-scoped IPv6 groups (ff02::, ff12::, ff32::) need the interface as scope id.
    const linkScoped = v6 && /^ff[0-9a-f][12]:/i.test(group);
    connectTo(fd, { address: group, port, scopeId: linkScoped ? index : 0 });
    return fd;
  } catch (error) {
    closeFd(fd);
    throw error;
  }
}
