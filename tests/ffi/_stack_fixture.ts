// Runs inside a lab namespace for stack_test.ts, using only the FFI layer and the codec.
//   send <group> <port> <source> <ttl> <dscp> <count>   → sends MCAS datagrams, prints "sent N"
//   receive <group> <port> <source> <iface> <count> <ms> → SSM join, recvmsg, one JSON line each

import { PLATFORM as P } from "../../ffi/constants.ts";
import { check, lastErrno } from "../../ffi/errno.ts";
import { groupSourceReq } from "../../ffi/group_req.ts";
import { interfaceIndex, resolveInterface } from "../../ffi/interfaces.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../../ffi/msghdr.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import {
  bindTo,
  connectTo,
  openUdpSocket,
  sendDatagram,
  setIntOption,
  setStructOption,
  waitForFd,
} from "../../ffi/socket.ts";
import { familyOf, formatAddress } from "../../lib/address.ts";
import { McasEncoder } from "../../lib/mcas.ts";

const [mode, group, portText, source, ...rest] = Deno.args;
const port = Number(portText);
const family = familyOf(group);
const v4 = family === "IPv4";
const level = v4 ? P.IPPROTO_IP : P.IPPROTO_IPV6;

if (mode === "send") {
  const [ttl, dscp, count] = rest.map(Number);
  const fd = openUdpSocket(family);
  const index = resolveInterface(source).index;
  if (v4) {
    setIntOption(fd, level, P.IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
    setIntOption(fd, level, P.IP_TOS, dscp << 2, "IP_TOS");
  } else {
    setIntOption(fd, level, P.IPV6_MULTICAST_IF, index, "IPV6_MULTICAST_IF");
    setIntOption(fd, level, P.IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS");
    setIntOption(fd, level, P.IPV6_TCLASS, dscp << 2, "IPV6_TCLASS");
  }
  bindTo(fd, { address: source, port: 0 });
  connectTo(fd, { address: group, port });
  const encoder = new McasEncoder(120, { ttl, dscp, senderId: 0x0123456789abcdefn });
  let sent = 0;
  for (let sequence = 0; sequence < count; sequence++) {
    if (sendDatagram(fd, encoder.encode(BigInt(sequence), 1000n + BigInt(sequence))) === 120) {
      sent++;
    }
  }
  console.log(`sent ${sent}`);
} else if (mode === "receive") {
  const [iface, countText, msText] = rest;
  const fd = openUdpSocket(family);
  setIntOption(fd, P.SOL_SOCKET, P.SO_REUSEADDR, 1, "SO_REUSEADDR");
  bindTo(fd, { address: group, port });
  const request = groupSourceReq(interfaceIndex(iface), group, source);
  setStructOption(fd, level, P.MCAST_JOIN_SOURCE_GROUP, request, {
    label: "MCAST_JOIN_SOURCE_GROUP",
    value: `${source},${group}`,
  });
  if (v4) {
    setIntOption(fd, level, P.IP_RECVTTL, 1, "IP_RECVTTL");
    setIntOption(fd, level, P.IP_RECVTOS, 1, "IP_RECVTOS");
    setIntOption(fd, level, P.IP_PKTINFO, 1, "IP_PKTINFO");
  } else {
    setIntOption(fd, level, P.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
    setIntOption(fd, level, P.IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS");
    setIntOption(fd, level, P.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
  }
  console.log("ready");
  const batch = new MessageBatch(1, 2048, { controlSize: 256, withNames: true });
  const meta = new ReceivedMetadata();
  const deadline = Date.now() + Number(msText);
  let got = 0;
  while (got < Number(countText) && Date.now() < deadline) {
    batch.resetSlot(0);
    const n = Number(libc().recvmsg(fd, batch.headersFrom(0), P.MSG_DONTWAIT));
    if (n < 0) {
      if (lastErrno() !== P.errno.EAGAIN) check(n, "recvmsg");
      await waitForFd(fd, P.POLLIN, 200);
      continue;
    }
    batch.readMetadata(0, meta);
    const from = decodeSockaddr(batch.nameOf(0)!);
    const bytes = meta.destinationFamily === "IPv4" ? 4 : 16;
    console.log(JSON.stringify({
      source: from.address,
      ttl: meta.ttl,
      tos: meta.tos,
      destination: formatAddress(meta.destination.subarray(0, bytes)),
      payload: Array.from(batch.payloads[0].subarray(0, n), (b) => b.toString(16).padStart(2, "0"))
        .join(""),
    }));
    got++;
  }
}
