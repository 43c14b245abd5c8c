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
import { formatAddress } from "../../lib/address.ts";
import { AsyncPublication } from "../../lib/async_publication.ts";
import { Context } from "../../lib/context.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { interfaceIndex } from "../../ffi/interfaces.ts";
import { ReceivedMetadata } from "../../ffi/msghdr.ts";
import { ReceivedBatch } from "../../ffi/received_batch.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { openMulticastReceiver } from "../ffi/_sockets.ts";

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
  const socket = openMulticastReceiver({
    group,
    port,
    ifindex,
    source: values.source,
    bindAddress: family === "IPv6" ? "::" : undefined,
    receiveBufferBytes: Number(values.rcvbuf),
  });
  console.log("READY");
  const batch = new ReceivedBatch(64, 2048, { formatAddress });
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
    const ready = await socket.wait(P.POLLIN, 50);
    if (ready === 0) continue;
    const n = socket.receiveBatch(batch);
    lastAt = performance.now();
    for (let i = 0; i < n; i++) {
      batch.metadata(i, meta);
      const length = batch.datagramLength(i);
      const payload = batch.payload(i);
      const source = batch.sourceAddress(i);
      count++;
      bytes += length;
      sources.set(source, (sources.get(source) ?? 0) + 1);
      ttls.add(meta.ttl);
      if (length >= 8 && seen.length > 0) {
        const seq = Number(new DataView(payload.buffer, payload.byteOffset).getBigUint64(0));
        if (seq < seen.length && seen[seq] === 0) {
          seen[seq] = 1;
          unique++;
        }
      }
      if (!countOnly) {
        console.log(JSON.stringify({
          source,
          port: batch.sourcePort(i),
          ttl: meta.ttl,
          tos: meta.tos,
          ifindex: meta.interfaceIndex,
          bytes: length,
          payloadHex: [...payload.subarray(0, 64)].map((b) => b.toString(16).padStart(2, "0"))
            .join(""),
        }));
      }
    }
  }
  socket.close();
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
  const socket = UdpSocket.open(family, { nonBlocking: false });
  const sndbuf = Number(values.sndbuf);
  if (sndbuf > 0) socket.setInt(P.SOL_SOCKET, P.SO_SNDBUF, sndbuf, "SO_SNDBUF");
  const ctx = new Context();
  const id = ctx.addPublicationWithSocket(config, socket.fd);
  socket.release(); // the context's publication owns it now
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
