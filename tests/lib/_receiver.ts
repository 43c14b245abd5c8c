// Lab peer for the sender tests, run as a Deno subprocess inside a namespace.
//
// receive mode: joins a group (ASM with MCAST_JOIN_GROUP, SSM with MCAST_JOIN_SOURCE_GROUP) on
// an interface, asks for TTL/hop limit, TOS/traffic class and packet info, prints "READY", then
// one JSON line per datagram ({source, port, ttl, tos, ifindex, bytes, payloadHex}) unless
// --count-only, and a final {"summary": {...}} line. Stops at --expect datagrams, after
// --idle-ms without one, or at --timeout-ms.
//
// async-send mode: opens a socket with a tiny SO_SNDBUF, hands it to a Context
// (addPublicationWithSocket), takes the publication into an AsyncPublication and sends --count
// datagrams carrying their sequence number; prints {"sent", "wouldBlocks", "waits", "elapsedMs"}.
//
// Every loop is bounded by a count and a time limit.

import { parseArgs } from "node:util";
import { AsyncPublication } from "../../lib/async_publication.ts";
import { Context } from "../../lib/context.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { check } from "../../ffi/errno.ts";
import { groupReq, groupSourceReq } from "../../ffi/group_req.ts";
import { interfaceIndex } from "../../ffi/interfaces.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../../ffi/msghdr.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import {
  bindTo,
  closeFd,
  openUdpSocket,
  setIntOption,
  setStructOption,
  waitForFd,
} from "../../ffi/socket.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mode: { type: "string", default: "receive" },
    group: { type: "string" },
    port: { type: "string" },
    source: { type: "string" },
    interface: { type: "string" },
    expect: { type: "string", default: "0" },
    "idle-ms": { type: "string", default: "0" },
    "timeout-ms": { type: "string", default: "10000" },
    "count-only": { type: "boolean", default: false },
    rcvbuf: { type: "string", default: "0" },
    count: { type: "string", default: "1" },
    size: { type: "string", default: "64" },
    sndbuf: { type: "string", default: "0" },
  },
});

const group = values.group ?? "";
const port = Number(values.port);
const family = group.includes(":") ? "IPv6" : "IPv4";

function ifindexOf(spec: string | undefined): number {
  if (spec === undefined) return 0;
  if (/^\d+$/.test(spec)) return Number(spec);
  const index = interfaceIndex(spec);
  if (index === 0) throw new Error(`No interface ${spec}`);
  return index;
}

async function receive(): Promise<void> {
  const expect = Number(values.expect);
  const idleMs = Number(values["idle-ms"]);
  const deadline = performance.now() + Number(values["timeout-ms"]);
  const ifindex = ifindexOf(values.interface);
  const fd = openUdpSocket(family);
  setIntOption(fd, P.SOL_SOCKET, P.SO_REUSEADDR, 1, "SO_REUSEADDR");
  const rcvbuf = Number(values.rcvbuf);
  if (rcvbuf > 0) setIntOption(fd, P.SOL_SOCKET, P.SO_RCVBUFFORCE, rcvbuf, "SO_RCVBUFFORCE");
  const level = family === "IPv4" ? P.IPPROTO_IP : P.IPPROTO_IPV6;
  if (family === "IPv4") {
    bindTo(fd, { address: group, port });
    for (const option of [P.IP_RECVTTL, P.IP_RECVTOS, P.IP_PKTINFO]) {
      setIntOption(fd, P.IPPROTO_IP, option, 1, "IP_RECV*");
    }
    setIntOption(fd, P.IPPROTO_IP, P.IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  } else {
    setIntOption(fd, P.IPPROTO_IPV6, P.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    bindTo(fd, { address: "::", port });
    for (const option of [P.IPV6_RECVHOPLIMIT, P.IPV6_RECVTCLASS, P.IPV6_RECVPKTINFO]) {
      setIntOption(fd, P.IPPROTO_IPV6, option, 1, "IPV6_RECV*");
    }
    setIntOption(fd, P.IPPROTO_IPV6, P.IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL");
  }
  if (values.source !== undefined) {
    setStructOption(
      fd,
      level,
      P.MCAST_JOIN_SOURCE_GROUP,
      groupSourceReq(ifindex, group, values.source),
      { label: "MCAST_JOIN_SOURCE_GROUP", value: `${values.source},${group}` },
    );
  } else {
    setStructOption(fd, level, P.MCAST_JOIN_GROUP, groupReq(ifindex, group), {
      label: "MCAST_JOIN_GROUP",
      value: group,
    });
  }
  console.log("READY");
  const batch = new MessageBatch(64, 2048, { controlSize: 256, withNames: true });
  const meta = new ReceivedMetadata();
  const countOnly = values["count-only"];
  let count = 0;
  let bytes = 0;
  const sources = new Map<string, number>();
  const ttls = new Set<number>();
  const seen = expect > 0 ? new Uint8Array(expect) : new Uint8Array(0);
  let unique = 0;
  let lastAt = performance.now();
  while (performance.now() < deadline && (expect === 0 || count < expect)) {
    if (idleMs > 0 && count > 0 && performance.now() - lastAt > idleMs) break;
    const ready = await waitForFd(fd, P.POLLIN, 50);
    if (ready === 0) continue;
    batch.resetForReceive();
    const n = check(
      libc().recvmmsg(fd, batch.headers, batch.count, P.MSG_DONTWAIT, null),
      "recvmmsg",
    );
    lastAt = performance.now();
    for (let i = 0; i < n; i++) {
      batch.readMetadata(i, meta);
      const length = batch.receivedLength(i);
      const from = decodeSockaddr(batch.nameOf(i)!);
      count++;
      bytes += length;
      sources.set(from.address, (sources.get(from.address) ?? 0) + 1);
      ttls.add(meta.ttl);
      if (length >= 8 && seen.length > 0) {
        const seq = Number(
          new DataView(batch.payloads[i].buffer, batch.payloads[i].byteOffset).getBigUint64(0),
        );
        if (seq < seen.length && seen[seq] === 0) {
          seen[seq] = 1;
          unique++;
        }
      }
      if (!countOnly) {
        const payload = batch.payloads[i].subarray(0, Math.min(length, 64));
        console.log(JSON.stringify({
          source: from.address,
          port: from.port,
          ttl: meta.ttl,
          tos: meta.tos,
          ifindex: meta.interfaceIndex,
          bytes: length,
          payloadHex: [...payload].map((b) => b.toString(16).padStart(2, "0")).join(""),
        }));
      }
    }
  }
  closeFd(fd);
  console.log(JSON.stringify({
    summary: { count, unique, bytes, sources: Object.fromEntries(sources), ttls: [...ttls] },
  }));
}

async function asyncSend(): Promise<void> {
  const count = Number(values.count);
  const size = Number(values.size);
  const deadline = performance.now() + Number(values["timeout-ms"]);
  let config = new PublicationConfig(group, port).withTtl(4);
  if (values.source !== undefined) config = config.withSourceAddr(values.source);
  if (values.interface !== undefined) config = config.withOutgoingInterface(values.interface);
  const fd = openUdpSocket(family, { nonBlocking: false });
  const sndbuf = Number(values.sndbuf);
  if (sndbuf > 0) setIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF, sndbuf, "SO_SNDBUF");
  const ctx = new Context();
  const id = ctx.addPublicationWithSocket(config, fd);
  using pub = new AsyncPublication(ctx.takePublication(id)!);
  const payload = new Uint8Array(size).fill(0xa5);
  const view = new DataView(payload.buffer);
  const start = performance.now();
  let sent = 0;
  for (let seq = 0; seq < count; seq++) {
    if (performance.now() > deadline) break;
    view.setBigUint64(0, BigInt(seq));
    await pub.send(payload, { timeoutMs: 5_000 });
    sent++;
  }
  console.log(JSON.stringify({
    sent,
    wouldBlocks: pub.publication.counters.wouldBlocks,
    waits: pub.waits,
    sendErrors: pub.publication.counters.sendErrors,
    elapsedMs: Math.round(performance.now() - start),
  }));
}

if (values.mode === "async-send") await asyncSend();
else await receive();
