// Loopback tests of the receiver socket: everything here runs on `lo` of the host the tests run
// on (IPv4 only: Linux does not loop IPv6 multicast over `lo`; the IPv6 cases are in
// subscription_lab_test.ts, inside namespaces). Every join names `lo` explicitly, so no IGMP
// report can leave through another interface; groups and ports are random per run so parallel
// suites do not see each other's datagrams.

import assert from "node:assert/strict";
import { DEFAULT_BATCH_SIZE, ReceivedMetadata, Subscription } from "../../lib/subscription.ts";
import {
  ClosedError,
  InterfaceNotFoundError,
  InvalidValueError,
  MismatchError,
  SocketError,
} from "../../lib/errors.ts";
import { DEFAULT_PORT, McasEncoder } from "../../lib/mcas.ts";
import type { UdpSocket } from "../../ffi/socket.ts";
import { openMulticastSender } from "../ffi/_sockets.ts";
import { freshGroup, LO } from "./_loopback.ts";

const gc = (globalThis as { gc?: () => void }).gc;

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** A fresh 239.x group and a high port, different per call. */
function freshEndpoint(): { group: string; port: number } {
  return { group: freshGroup(), port: randomInt(20_000, 60_000) };
}

/** A connected IPv4 sender on lo, from `source` (a 127/8 address). */
class LoSender implements Disposable {
  readonly socket: UdpSocket;

  constructor(
    group: string,
    port: number,
    options: { source?: string; ttl?: number; tos?: number },
  ) {
    this.socket = openMulticastSender({
      group,
      port,
      source: options.source ?? "127.0.0.1",
      ifindex: LO,
      ttl: options.ttl ?? 1,
      tos: options.tos ?? 0,
    });
  }

  send(payload: Uint8Array): void {
    assert.equal(this.socket.send(payload), payload.length);
  }

  [Symbol.dispose](): void {
    this.socket.close();
  }
}

/** Sends one datagram `[i]` from each of 127.0.0.1 … 127.0.0.`count` (i = 1 … count). */
function sendFromEach(group: string, port: number, count: number): void {
  const senders = Array.from(
    { length: count },
    (_, i) => new LoSender(group, port, { source: `127.0.0.${i + 1}` }),
  );
  try {
    for (const [i, sender] of senders.entries()) sender.send(new Uint8Array([i + 1]));
  } finally {
    for (const sender of senders) sender[Symbol.dispose]();
  }
}

/** Receives until `count` datagrams arrived or `timeoutMs` passed; returns them copied. */
async function collect(
  sub: Subscription,
  count: number,
  timeoutMs = 2_000,
): Promise<{ payload: Uint8Array; source: string; port: number; meta: ReceivedMetadata }[]> {
  const out: { payload: Uint8Array; source: string; port: number; meta: ReceivedMetadata }[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const batch of sub.batches({ signal, waitMs: 20 })) {
    for (let i = 0; i < batch.length; i++) {
      const meta = new ReceivedMetadata();
      batch.metadata(i, meta);
      out.push({
        payload: batch.payload(i).slice(),
        source: batch.sourceAddress(i),
        port: batch.sourcePort(i),
        meta,
      });
    }
    if (out.length >= count) break;
  }
  return out;
}

/** Gives the kernel a moment, then drains whatever is queued; returns how many. */
async function drainCount(sub: Subscription, settleMs = 100): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  let total = 0;
  for (let n = sub.receiveBatch(); n > 0; n = sub.receiveBatch()) total += n;
  return total;
}

function igmpGroupsOnLo(): string[] {
  // /proc/net/igmp: an interface line, then one tab-indented line per group, the group in hex as
  // the kernel stores it (network order read as a little-endian word on x86/arm64).
  const lines = Deno.readTextFileSync("/proc/net/igmp").split("\n");
  const groups: string[] = [];
  let onLo = false;
  for (const line of lines) {
    if (/^\d+\s/.test(line)) onLo = /^\d+\s+lo\s/.test(line);
    else if (onLo && /^\s+[0-9A-F]{8}\s/.test(line)) {
      const hex = line.trim().slice(0, 8);
      const word = parseInt(hex, 16);
      groups.push([word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24].join("."));
    }
  }
  return groups;
}

Deno.test("subscription: ASM join on lo receives datagrams with TTL, TOS, pktinfo and time", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, { interface: "lo", port });
  assert.equal(sub.group, group);
  assert.equal(sub.source, null);
  assert.equal(sub.family, "IPv4");
  assert.equal(sub.port, port);
  assert.equal(sub.interfaceIndex, LO);
  assert.equal(sub.interfaceName, "lo");
  assert.equal(sub.joined, true);
  assert.equal(sub.inSsmRange, false);
  assert.equal(sub.batch.capacity, DEFAULT_BATCH_SIZE);
  using sender = new LoSender(group, port, { ttl: 9, tos: 46 << 2 });
  const encoder = new McasEncoder(200, { ttl: 9, dscp: 46, senderId: 0xabcdn });
  const before = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0n; i < 5n; i++) sender.send(encoder.encode(i, i * 1000n));
  const received = await collect(sub, 5);
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  assert.equal(received.length, 5);
  for (const [i, datagram] of received.entries()) {
    assert.equal(datagram.payload.length, 200);
    assert.deepEqual(datagram.payload, encoder.encode(BigInt(i), BigInt(i) * 1000n));
    assert.equal(datagram.source, "127.0.0.1");
    assert.ok(datagram.port > 0);
    assert.equal(datagram.meta.ttl, 9);
    assert.equal(datagram.meta.tos, 46 << 2);
    assert.equal(datagram.meta.interfaceIndex, LO);
    assert.equal(datagram.meta.destinationFamily, "IPv4");
    assert.deepEqual([...datagram.meta.destination.subarray(0, 4)], group.split(".").map(Number));
    assert.ok(
      datagram.meta.timestampNs >= before - 1_000_000_000n && datagram.meta.timestampNs <= after,
      `kernel timestamp ${datagram.meta.timestampNs} not within [${before}, ${after}]`,
    );
  }
});

Deno.test("subscription: the batch view reports lengths and flags without copying", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, { interface: "lo", port, maxDatagramSize: 64, batchSize: 4 });
  using sender = new LoSender(group, port, {});
  sender.send(new Uint8Array(200).fill(7));
  sender.send(new Uint8Array(10).fill(8));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sub.receiveBatch(), 2);
  const batch = sub.batch;
  assert.equal(batch.length, 2);
  assert.equal(batch.truncated(0), true);
  assert.equal(batch.datagramLength(0), 200);
  assert.equal(batch.payload(0).length, 64);
  assert.ok(batch.payload(0).every((b) => b === 7));
  assert.equal(batch.truncated(1), false);
  assert.equal(batch.controlTruncated(1), false);
  assert.equal(batch.datagramLength(1), 10);
  assert.deepEqual(batch.payload(1), new Uint8Array(10).fill(8));
  // The same view object comes back while the length stays the same.
  assert.equal(batch.payload(1), batch.payload(1));
  assert.throws(() => batch.payload(2), InvalidValueError);
  assert.throws(() => batch.sourceAddress(-1), InvalidValueError);
  assert.equal(sub.receiveBatch(), 0);
  assert.equal(batch.length, 0);
  assert.throws(() => batch.payload(0), /Invalid datagram index: 0 \(expected no index/);
});

Deno.test("subscription: SSM join on lo delivers only the chosen source", async () => {
  const { port } = freshEndpoint();
  const group = `232.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
  using ssm = new Subscription(group, { interface: "lo", port, source: "127.0.0.1" });
  assert.equal(ssm.source, "127.0.0.1");
  assert.equal(ssm.inSsmRange, true);
  using wanted = new LoSender(group, port, { source: "127.0.0.1" });
  using other = new LoSender(group, port, { source: "127.0.0.2" });
  for (let i = 0; i < 10; i++) {
    other.send(new Uint8Array([2, i]));
    wanted.send(new Uint8Array([1, i]));
  }
  const received = await collect(ssm, 10);
  assert.equal(received.length, 10);
  assert.ok(received.every((d) => d.source === "127.0.0.1" && d.payload[0] === 1));
  assert.equal(await drainCount(ssm), 0, "datagrams from 127.0.0.2 got through the SSM filter");
});

Deno.test("subscription: an INCLUDE list of two sources delivers exactly those", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, {
    interface: "lo",
    port,
    sources: ["127.0.0.3", "127.0.0.1", "127.0.0.3"],
  });
  assert.deepEqual(sub.sources, ["127.0.0.3", "127.0.0.1"], "canonical, duplicates dropped");
  assert.equal(sub.source, "127.0.0.3");
  assert.deepEqual(sub.exclude, []);
  assert.equal(sub.filterMode, "INCLUDE");
  sendFromEach(group, port, 3);
  const received = await collect(sub, 2);
  assert.deepEqual(received.map((d) => d.source).sort(), ["127.0.0.1", "127.0.0.3"]);
  assert.equal(await drainCount(sub), 0, "127.0.0.2 got through the INCLUDE filter");
  sub.leave();
  assert.equal(sub.joined, false);
});

Deno.test("subscription: an EXCLUDE list blocks those sources and lets the others in", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, { interface: "lo", port, exclude: ["127.0.0.2"] });
  assert.deepEqual(sub.exclude, ["127.0.0.2"]);
  assert.deepEqual(sub.sources, []);
  assert.equal(sub.source, null);
  assert.equal(sub.filterMode, "EXCLUDE");
  using asm = new Subscription(group, { interface: "lo", port });
  assert.equal(asm.filterMode, "EXCLUDE", "(*,G) is EXCLUDE with nothing excluded");
  sendFromEach(group, port, 3);
  const received = await collect(sub, 2);
  assert.deepEqual(received.map((d) => d.source).sort(), ["127.0.0.1", "127.0.0.3"]);
  assert.equal(await drainCount(sub), 0, "127.0.0.2 got through the EXCLUDE filter");
  assert.equal(await drainCount(asm, 0), 3, "the neighbour without a filter sees all three");
  sub.leave();
  assert.equal(sub.joined, false);
  sub.close();
});

Deno.test("subscription: source, sources and exclude are one choice", () => {
  const message = "(expected one of source, sources (INCLUDE) or exclude (EXCLUDE))";
  for (
    const [options, given] of [
      [{ source: "127.0.0.1", sources: ["127.0.0.2"] }, "source and sources"],
      [{ source: "127.0.0.1", exclude: ["127.0.0.2"] }, "source and exclude"],
      [{ sources: ["127.0.0.1"], exclude: ["127.0.0.2"] }, "sources and exclude"],
    ] as const
  ) {
    assert.throws(
      () => new Subscription("239.1.2.3", { interface: "lo", ...options }),
      (e: unknown) =>
        e instanceof InvalidValueError &&
        e.message === `Invalid source filter: "${given}" ${message}`,
    );
  }
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "lo", exclude: ["fd00::1"] }),
    MismatchError,
  );
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "lo", sources: ["239.9.9.9"] }),
    /Invalid source: "239\.9\.9\.9" \(expected a unicast IPv4 address\)/,
  );
});

Deno.test("subscription: waitReadable reports a queued datagram, a timeout and a closed socket", async () => {
  const { group, port } = freshEndpoint();
  const sub = new Subscription(group, { interface: "lo", port });
  using sender = new LoSender(group, port, {});
  const started = performance.now();
  assert.equal(await sub.waitReadable(30), false, "nothing queued: times out");
  assert.ok(performance.now() - started >= 25, "it waited");
  sender.send(new Uint8Array([1]));
  assert.equal(await sub.waitReadable(2_000), true);
  assert.equal(sub.receiveBatch(), 1);
  sub.close();
  assert.equal(await sub.waitReadable(1_000), false, "closed: false at once");
});

Deno.test("subscription: an SSM receiver beside an ASM receiver of the group still filters", async () => {
  // Sixteen other sources, each from its own port: with SO_REUSEPORT on both sockets, Linux's
  // early demux hands a datagram only one of them accepts to a member picked by hash, so some of
  // these would land on the (S,G) socket and be missing from the ASM one (2^-16 to miss it).
  const { group, port } = freshEndpoint();
  using asm = new Subscription(group, { interface: "lo", port });
  using ssm = new Subscription(group, { interface: "lo", port, source: "127.0.0.1" });
  const senders = Array.from(
    { length: 17 },
    (_, i) => new LoSender(group, port, { source: `127.0.0.${i + 1}` }),
  );
  try {
    for (let round = 0; round < 2; round++) {
      for (const [i, sender] of senders.entries()) sender.send(new Uint8Array([i + 1, round]));
    }
  } finally {
    for (const sender of senders) sender[Symbol.dispose]();
  }
  const bySource = async (sub: Subscription) => {
    const counts: Record<string, number> = {};
    for (const d of await collect(sub, 1_000, 300)) counts[d.source] = (counts[d.source] ?? 0) + 1;
    return counts;
  };
  const everyone = Object.fromEntries(senders.map((_, i) => [`127.0.0.${i + 1}`, 2]));
  assert.deepEqual(await bySource(asm), everyone);
  assert.deepEqual(await bySource(ssm), { "127.0.0.1": 2 });
});

Deno.test("subscription: one that left gets nothing while another stays joined (MULTICAST_ALL=0)", async () => {
  const { group, port } = freshEndpoint();
  using stays = new Subscription(group, { interface: "lo", port });
  using leaves = new Subscription(group, { interface: "lo", port });
  leaves.leave();
  using sender = new LoSender(group, port, {});
  for (let i = 0; i < 5; i++) sender.send(new Uint8Array([i]));
  assert.equal(await drainCount(stays), 5);
  assert.equal(await drainCount(leaves, 0), 0);
});

Deno.test("subscription: receivers share group and port; another group on the port is not seen", async () => {
  const { group, port } = freshEndpoint();
  const otherGroup = `239.${randomInt(1, 99)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
  using a = new Subscription(group, { interface: "lo", port });
  using b = new Subscription(group, { interface: "lo", port });
  using c = new Subscription(otherGroup, { interface: "lo", port });
  using sender = new LoSender(group, port, {});
  for (let i = 0; i < 7; i++) sender.send(new Uint8Array([i]));
  assert.equal(await drainCount(a), 7);
  assert.equal(await drainCount(b, 0), 7);
  assert.equal(await drainCount(c, 0), 0);
});

Deno.test("subscription: without reuse a second socket on the group and port is refused, naming it", () => {
  const { group, port } = freshEndpoint();
  using first = new Subscription(group, { interface: "lo", port, reuse: false });
  assert.equal(first.joined, true);
  const error = assert.throws(
    () => new Subscription(group, { interface: "lo", port, reuse: false }),
    (e: unknown) => e instanceof SocketError && e.errnoName === "EADDRINUSE",
  );
  void error;
  assert.throws(
    () => new Subscription(group, { interface: "lo", port, reuse: false }),
    new RegExp(
      `Failed to bind: EADDRINUSE \\(errno \\d+\\): ${group.replaceAll(".", "\\.")}:${port}`,
    ),
  );
});

Deno.test("subscription: the batch iterator delivers everything in batches of at most batchSize", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, { interface: "lo", port, batchSize: 16 });
  using sender = new LoSender(group, port, {});
  const total = 100;
  const sizes: number[] = [];
  const seen = new Set<number>();
  const receiving = (async () => {
    for await (const batch of sub.batches({ signal: AbortSignal.timeout(3_000), waitMs: 10 })) {
      sizes.push(batch.length);
      for (let i = 0; i < batch.length; i++) seen.add(batch.payload(i)[0]);
      if (seen.size >= total) break;
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 30)); // the iterator is waiting in poll
  for (let i = 0; i < total; i++) sender.send(new Uint8Array([i]));
  await receiving;
  assert.equal(seen.size, total);
  assert.ok(sizes.every((n) => n >= 1 && n <= 16), `batch sizes ${sizes}`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), total);
});

Deno.test("subscription: for await over the subscription ends when it is closed", async () => {
  const { group, port } = freshEndpoint();
  const sub = new Subscription(group, { interface: "lo", port });
  let batches = 0;
  const started = performance.now();
  setTimeout(() => sub.close(), 50);
  for await (const _batch of sub) batches++;
  const elapsed = performance.now() - started;
  assert.equal(batches, 0);
  assert.equal(sub.closed, true);
  assert.equal(sub.fd, -1);
  assert.ok(elapsed < 1_000, `iteration took ${elapsed} ms to end after close`);
  assert.throws(() => sub.receiveBatch(), ClosedError);
  sub.close(); // idempotent
  sub.leave(); // no-op once closed
});

Deno.test("subscription: the batch iterator ends when its signal fires", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, { interface: "lo", port });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = performance.now();
  for await (const _batch of sub.batches({ signal: controller.signal, waitMs: 20 })) {
    assert.fail("nothing was sent");
  }
  assert.ok(performance.now() - started < 1_000);
  assert.equal(sub.closed, false);
});

Deno.test("subscription: leave and dispose drop the membership (/proc/net/igmp)", () => {
  const { group, port } = freshEndpoint();
  assert.ok(!igmpGroupsOnLo().includes(group));
  {
    using sub = new Subscription(group, { interface: "lo", port });
    assert.ok(igmpGroupsOnLo().includes(group), `${group} not joined on lo`);
    assert.equal(sub.joined, true);
  }
  assert.ok(!igmpGroupsOnLo().includes(group), `${group} still joined after dispose`);

  const sub = new Subscription(group, { interface: "127.0.0.1", port });
  assert.equal(sub.interfaceName, "lo");
  assert.ok(igmpGroupsOnLo().includes(group));
  sub.leave();
  assert.equal(sub.joined, false);
  assert.equal(sub.closed, false);
  assert.ok(!igmpGroupsOnLo().includes(group), `${group} still joined after leave`);
  sub.leave(); // idempotent
  sub.close();
  sub.close();
});

Deno.test("subscription: errors name the bad value", () => {
  assert.throws(
    () => new Subscription("10.1.2.3", { interface: "lo" }),
    (e: unknown) =>
      e instanceof InvalidValueError && e.what === "group" &&
      e.message === 'Invalid group: "10.1.2.3" (expected an IPv4 or IPv6 multicast address)',
  );
  assert.throws(() => new Subscription("239.1.2", {}), /Invalid group: "239\.1\.2"/);
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "nosuchif0" }),
    (e: unknown) => e instanceof InterfaceNotFoundError && /"nosuchif0"/.test(e.message),
  );
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: 999_999 }),
    (e: unknown) => e instanceof InterfaceNotFoundError && /999999/.test(e.message),
  );
  assert.throws(
    () => new Subscription("232.1.2.3", { interface: "lo", source: "fd00::1" }),
    (e: unknown) =>
      e instanceof MismatchError &&
      e.message === "Mismatched address family of source: expected IPv4, got IPv6",
  );
  assert.throws(
    () => new Subscription("ff3e::1", { interface: "lo", source: "10.0.0.1" }),
    MismatchError,
  );
  assert.throws(
    () => new Subscription("232.1.2.3", { interface: "lo", source: "232.9.9.9" }),
    /Invalid source: "232\.9\.9\.9" \(expected a unicast IPv4 address\)/,
  );
  assert.throws(
    () => new Subscription("232.1.2.3", { interface: "lo", source: "0.0.0.0" }),
    /Invalid source/,
  );
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "lo", port: 0 }),
    /Invalid port: 0 \(expected an integer from 1 to 65535\)/,
  );
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "lo", batchSize: 0 }),
    /Invalid batch size/,
  );
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "lo", maxDatagramSize: 70_000 }),
    /Invalid maximum datagram size/,
  );
  assert.throws(
    () => new Subscription("239.1.2.3", { interface: "lo", receiveBufferBytes: -1 }),
    /Invalid receive buffer size/,
  );
  assert.throws(
    () => new Subscription("ff02::1234", {}),
    /Invalid interface: none \(expected an interface for the link-scoped group ff02::1234, by option or %zone/,
  );
  assert.throws(
    () => new Subscription("ff02::1234%lo", { interface: "nosuchif0" }),
    InterfaceNotFoundError,
  );
});

Deno.test("subscription: the receive buffer is enlarged and reported", () => {
  const { group, port } = freshEndpoint();
  using big = new Subscription(group, { interface: "lo", port, receiveBufferBytes: 1 << 20 });
  assert.equal(big.requestedReceiveBufferBytes, 1 << 20);
  // Linux reports twice what was asked (bookkeeping overhead); without root, at most rmem_max.
  const rmemMax = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_max").trim());
  const expected = Deno.uid() === 0 ? 2 << 20 : 2 * Math.min(1 << 20, rmemMax);
  assert.equal(big.receiveBufferBytes, expected);
  using plain = new Subscription(group, { interface: "lo", port, receiveBufferBytes: 0 });
  assert.equal(plain.requestedReceiveBufferBytes, 0);
  const rmemDefault = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_default").trim());
  assert.equal(plain.receiveBufferBytes, rmemDefault);
  using defaulted = new Subscription(group, { interface: "lo", port });
  assert.ok(defaulted.receiveBufferBytes >= Math.min(4 << 20, rmemMax));
  assert.equal(DEFAULT_PORT, 19779);
});

Deno.test("subscription: source addresses stay right when more senders than the cache", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, { interface: "lo", port, batchSize: 64 });
  const senders = Array.from(
    { length: 12 },
    (_, i) => new LoSender(group, port, { source: `127.0.0.${i + 1}` }),
  );
  try {
    for (let round = 0; round < 3; round++) {
      for (const [i, sender] of senders.entries()) sender.send(new Uint8Array([i + 1]));
    }
    const received = await collect(sub, 36);
    assert.equal(received.length, 36);
    for (const d of received) assert.equal(d.source, `127.0.0.${d.payload[0]}`);
  } finally {
    for (const sender of senders) sender[Symbol.dispose]();
  }
});

Deno.test("subscription: GC hammer — 2000 receives with gc() between keep every byte", async () => {
  // A full gc() costs ~10 ms in the test runner, so every 8th collection is a full one and the
  // others are scavenges (which is where young buffers die); a fresh subscription every 500
  // receives, held by nothing but the loop variable, has its buffers collected-and-checked too.
  if (gc === undefined) console.warn("GC hammer without gc(): run with --v8-flags=--expose-gc");
  const collectGarbage = (i: number) => {
    if (gc === undefined) return;
    if (i % 8 === 0) gc();
    else (gc as (options?: { type: string }) => void)({ type: "minor" });
  };
  const { group, port } = freshEndpoint();
  using sender = new LoSender(group, port, { ttl: 3, tos: 0x28 });
  const meta = new ReceivedMetadata();
  const iterations = 2_000;
  let sub: Subscription | null = null;
  try {
    for (let i = 0; i < iterations; i++) {
      if (i % 500 === 0) {
        sub?.close();
        sub = new Subscription(group, {
          interface: "lo",
          port,
          batchSize: 4,
          maxDatagramSize: 2048,
        });
        collectGarbage(0);
      }
      const current: Subscription = sub!;
      const size = 1 + (i * 37) % 1500;
      const payload = new Uint8Array(size);
      for (let b = 0; b < size; b++) payload[b] = (i + b * 7) & 0xff;
      sender.send(payload);
      collectGarbage(i);
      let count: number = current.receiveBatch();
      for (let tries = 0; count === 0 && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        count = current.receiveBatch();
      }
      assert.equal(count, 1, `iteration ${i}: ${count} datagrams`);
      const got = current.batch.payload(0);
      assert.equal(got.length, size);
      for (let b = 0; b < size; b++) {
        if (got[b] !== ((i + b * 7) & 0xff)) assert.fail(`iteration ${i}: byte ${b} is ${got[b]}`);
      }
      current.batch.metadata(0, meta);
      assert.equal(meta.ttl, 3);
      assert.equal(meta.tos, 0x28);
      assert.equal(meta.interfaceIndex, LO);
      assert.equal(current.batch.sourceAddress(0), "127.0.0.1");
      assert.equal(current.batch.datagramLength(0), size);
    }
  } finally {
    sub?.close();
  }
});

Deno.test("subscription: one recvmsg per datagram (the path of OSes without recvmmsg) is exact too", async () => {
  const { group, port } = freshEndpoint();
  using sub = new Subscription(group, {
    interface: "lo",
    port,
    batchSize: 4,
    maxDatagramSize: 64,
    singleMessages: true,
  });
  using sender = new LoSender(group, port, { ttl: 3, tos: 10 << 2 });
  const encoder = new McasEncoder(48, { ttl: 3, dscp: 10, senderId: 0x51n });
  for (let i = 0n; i < 6n; i++) sender.send(encoder.encode(i, i));
  sender.send(new Uint8Array(100).fill(9)); // longer than a slot: truncated, real length kept
  await new Promise((resolve) => setTimeout(resolve, 50));
  const meta = new ReceivedMetadata();
  // A batch holds 4: the first call fills it, the second takes the rest, the third finds nothing.
  assert.equal(sub.receiveBatch(), 4);
  for (let i = 0; i < 4; i++) {
    assert.equal(sub.batch.datagramLength(i), 48);
    assert.deepEqual(sub.batch.payload(i), encoder.encode(BigInt(i), BigInt(i)));
    sub.batch.metadata(i, meta);
    assert.equal(meta.ttl, 3);
    assert.equal(meta.tos, 10 << 2);
    assert.equal(sub.batch.sourceAddress(i), "127.0.0.1");
  }
  assert.equal(sub.receiveBatch(), 3);
  assert.deepEqual(sub.batch.payload(1), encoder.encode(5n, 5n));
  assert.equal(sub.batch.truncated(2), true);
  assert.equal(sub.batch.datagramLength(2), 100);
  assert.equal(sub.receiveBatch(), 0);
  assert.equal(sub.batch.length, 0);
});
