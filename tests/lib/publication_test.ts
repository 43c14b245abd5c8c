// Loopback tests of Publication, Context and AsyncPublication: every datagram goes to a group on
// `lo` (IP_MULTICAST_IF 127.0.0.1, TTL 1) and is read back by a receiver socket built with the
// ffi wrappers in this process. Nothing leaves the host.

import assert from "node:assert/strict";
import { AsyncPublication } from "../../lib/async_publication.ts";
import { Context } from "../../lib/context.ts";
import { ClosedError, InvalidValueError, MismatchError } from "../../lib/errors.ts";
import { MetricsSampler } from "../../lib/metrics.ts";
import { Publication } from "../../lib/publication.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { check, lastErrno } from "../../ffi/errno.ts";
import { groupReq } from "../../ffi/group_req.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../../ffi/msghdr.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import {
  bindTo,
  closeFd,
  isNonBlocking,
  localEndpoint,
  openUdpSocket,
  sendDatagram,
  setIntOption,
  setStructOption,
  waitForFd,
} from "../../ffi/socket.ts";

const GROUP = "239.255.77.1";
let nextPort = 20_000 + Math.floor(Math.random() * 20_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Datagram {
  source: string;
  ttl: number;
  tos: number;
  payload: Uint8Array;
}

/** A receiver socket joined to `group` on lo (index 1). */
class LoopbackReceiver implements Disposable {
  readonly port = nextPort++;
  readonly fd: number;
  readonly #batch = new MessageBatch(64, 4096, { controlSize: 256, withNames: true });
  readonly #meta = new ReceivedMetadata();

  constructor(group = GROUP) {
    this.fd = openUdpSocket("IPv4");
    setIntOption(this.fd, P.SOL_SOCKET, P.SO_REUSEADDR, 1, "SO_REUSEADDR");
    setIntOption(this.fd, P.SOL_SOCKET, P.SO_RCVBUFFORCE, 8 << 20, "SO_RCVBUFFORCE");
    bindTo(this.fd, { address: group, port: this.port });
    setStructOption(this.fd, P.IPPROTO_IP, P.MCAST_JOIN_GROUP, groupReq(1, group), {
      label: "MCAST_JOIN_GROUP",
      value: group,
    });
    for (const option of [P.IP_RECVTTL, P.IP_RECVTOS]) {
      setIntOption(this.fd, P.IPPROTO_IP, option, 1, "IP_RECV*");
    }
  }

  async receive(expected: number, timeoutMs = 5_000): Promise<Datagram[]> {
    const out: Datagram[] = [];
    const deadline = performance.now() + timeoutMs;
    while (out.length < expected && performance.now() < deadline) {
      if ((await waitForFd(this.fd, P.POLLIN, 50)) === 0) continue;
      this.#batch.resetForReceive();
      const n = check(
        libc().recvmmsg(this.fd, this.#batch.headers, this.#batch.count, P.MSG_DONTWAIT, null),
        "recvmmsg",
      );
      for (let i = 0; i < n; i++) {
        this.#batch.readMetadata(i, this.#meta);
        out.push({
          source: decodeSockaddr(this.#batch.nameOf(i)!).address,
          ttl: this.#meta.ttl,
          tos: this.#meta.tos,
          payload: this.#batch.payloads[i].slice(0, this.#batch.receivedLength(i)),
        });
      }
    }
    return out;
  }

  [Symbol.dispose](): void {
    closeFd(this.fd);
  }
}

const onLo = (port: number) =>
  new PublicationConfig(GROUP, port).withOutgoingInterface("127.0.0.1").withTtl(1);
const text = (s: string) => new TextEncoder().encode(s);

function fdIsOpen(fd: number): boolean {
  const result = libc().fcntl(fd, P.F_GETFL, 0);
  return result >= 0 || lastErrno() !== P.errno.EBADF;
}

Deno.test("send reaches a loopback receiver with the configured TTL and DSCP", async () => {
  using rx = new LoopbackReceiver();
  using pub = new Publication(
    onLo(rx.port).withTtl(3).withDscp("af41").withSourcePort(rx.port + 1000),
    {
      id: 42,
    },
  );
  assert.ok(isNonBlocking(pub.fd));
  const report = pub.send(text("hello multicast"));
  assert.equal(report.publicationId, 42);
  assert.deepEqual(report.destination, {
    family: "IPv4",
    address: GROUP,
    port: rx.port,
    scopeId: 0,
  });
  assert.equal(report.sourceAddr, "127.0.0.1");
  assert.equal(report.localAddr.address, "127.0.0.1");
  assert.equal(report.localAddr.port, rx.port + 1000);
  assert.equal(report.bytesSent, 15);
  assert.deepEqual(pub.announceTuple(), ["127.0.0.1", GROUP, rx.port]);
  const [got] = await rx.receive(1);
  assert.equal(new TextDecoder().decode(got.payload), "hello multicast");
  assert.equal(got.source, "127.0.0.1");
  assert.equal(got.ttl, 3);
  assert.equal(got.tos, 34 << 2);
  assert.equal(pub.interfaceIndex, 1);
});

Deno.test("steady sends reuse one frozen report; counters count", async () => {
  using rx = new LoopbackReceiver();
  using pub = new Publication(onLo(rx.port));
  const payload = new Uint8Array(64);
  const first = pub.send(payload);
  const second = pub.send(payload);
  assert.equal(first, second);
  assert.ok(Object.isFrozen(first));
  const third = pub.send(new Uint8Array(10));
  assert.notEqual(third, first);
  assert.equal(third.bytesSent, 10);
  assert.equal(pub.trySend(payload)?.bytesSent, 64);
  assert.deepEqual({ ...pub.counters }, {
    sendCalls: 4,
    packetsSent: 4,
    bytesSent: 64 * 3 + 10,
    sendErrors: 0,
    wouldBlocks: 0,
  });
  assert.equal((await rx.receive(4)).length, 4);
});

Deno.test("a refused datagram throws a SocketError and counts as a send error", () => {
  using pub = new Publication(onLo(nextPort++));
  assert.throws(() => pub.send(new Uint8Array(70_000)), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /^Failed to send: EMSGSIZE/);
    return true;
  });
  assert.equal(pub.counters.sendErrors, 1);
});

Deno.test("sendBatch delivers every payload through sendmmsg, across slots and sizes", async () => {
  using rx = new LoopbackReceiver();
  using pub = new Publication(onLo(rx.port));
  const payloads = Array.from({ length: 150 }, (_, i) => new Uint8Array(1 + (i % 7) * 100).fill(i));
  let sent = 0;
  while (sent < payloads.length) {
    sent += pub.sendBatch(payloads.slice(sent));
    gc(); // the batch's buffers must survive collections (FFI memory rule)
  }
  assert.equal(
    pub.sendBatch([new Uint8Array(3000).fill(7)]),
    1,
    "a larger payload grows the batch",
  );
  const got = await rx.receive(151);
  assert.equal(got.length, 151);
  for (let i = 0; i < 150; i++) {
    assert.equal(got[i].payload.length, payloads[i].length);
    assert.equal(got[i].payload[0], i);
  }
  assert.equal(got[150].payload.length, 3000);
  assert.equal(pub.counters.packetsSent, 151);
  assert.equal(pub.counters.bytesSent, payloads.reduce((n, p) => n + p.length, 0) + 3000);
  assert.equal(pub.sendBatch([]), 0);
});

Deno.test("prepareBatch and sendPrepared send caller-filled slots without copies", async () => {
  using rx = new LoopbackReceiver();
  using pub = new Publication(onLo(rx.port));
  const batch = pub.prepareBatch(16, 256);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 16; i++) {
      batch.payloads[i][0] = round;
      batch.payloads[i][1] = i;
      batch.setLength(i, 100 + i);
    }
    assert.equal(pub.sendPrepared(batch, 16), 16);
    gc();
  }
  const got = await rx.receive(48);
  assert.equal(got.length, 48);
  assert.deepEqual([...got[47].payload.subarray(0, 2)], [2, 15]);
  assert.equal(got[47].payload.length, 115);
  assert.throws(() => pub.prepareBatch(0, 10), InvalidValueError);
  assert.throws(() => pub.sendPrepared(batch, 17), InvalidValueError);
});

Deno.test("a caller-provided socket is made non-blocking, checked and configured", async () => {
  using rx = new LoopbackReceiver();
  using ctx = new Context();
  const fd = openUdpSocket("IPv4", { nonBlocking: false });
  assert.ok(!isNonBlocking(fd));
  const id = ctx.addPublicationWithSocket(onLo(rx.port), fd);
  const pub = ctx.getPublication(id)!;
  assert.equal(pub.fd, fd);
  assert.ok(isNonBlocking(fd));
  ctx.send(id, text("from your socket"));
  const [got] = await rx.receive(1);
  assert.equal(new TextDecoder().decode(got.payload), "from your socket");
  assert.equal(got.source, "127.0.0.1");
});

Deno.test("a caller-provided socket of the other family is refused and stays the caller's", () => {
  using ctx = new Context();
  const fd6 = openUdpSocket("IPv6");
  try {
    assert.throws(() => ctx.addPublicationWithSocket(onLo(nextPort++), fd6), (error: unknown) => {
      assert.ok(error instanceof MismatchError);
      assert.equal(error.actual, "IPv6");
      assert.match(
        error.message,
        /^Mismatched address family of socket fd \d+: expected "IPv4", got "IPv6"$/,
      );
      return true;
    });
    assert.ok(fdIsOpen(fd6));
    assert.equal(ctx.size, 0);
    assert.equal(ctx.metricsSnapshot().publicationsAdded, 0);
    const fd4 = openUdpSocket("IPv4");
    try {
      assert.throws(
        () => ctx.addPublicationWithSocket(new PublicationConfig("ff3e::1", 5000), fd4),
        MismatchError,
      );
    } finally {
      closeFd(fd4);
    }
  } finally {
    closeFd(fd6);
  }
});

Deno.test("a caller-provided bound socket must match the configured source and port", () => {
  using ctx = new Context();
  const fd = openUdpSocket("IPv4");
  try {
    bindTo(fd, { address: "127.0.0.1", port: 0 });
    const bound = localEndpoint(fd);
    assert.throws(
      () => ctx.addPublicationWithSocket(onLo(nextPort++).withSourceAddr("127.0.0.2"), fd),
      MismatchError,
    );
    assert.throws(
      () => ctx.addPublicationWithSocket(onLo(nextPort++).withSourcePort(bound.port + 1), fd),
      MismatchError,
    );
    const id = ctx.addPublicationWithSocket(onLo(nextPort++).withSourcePort(bound.port), fd);
    assert.equal(ctx.getPublication(id)!.localAddr.port, bound.port);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
});

Deno.test("take and intoParts leave a working fd that the publication no longer owns", async () => {
  using rx = new LoopbackReceiver();
  using ctx = new Context();
  const id = ctx.addPublication(onLo(rx.port));
  const moved = ctx.takePublication(id)!;
  assert.equal(ctx.size, 0);
  assert.equal(ctx.getPublication(id), undefined);
  assert.equal(ctx.takePublication(id), undefined);
  const parts = moved.intoParts();
  assert.equal(parts.id, id);
  assert.ok(parts.config.equals(onLo(rx.port)));
  assert.throws(() => moved.send(text("x")), ClosedError);
  assert.throws(() => moved.fd, ClosedError);
  moved.close(); // does not close the moved fd
  assert.ok(fdIsOpen(parts.fd));
  assert.equal(sendDatagram(parts.fd, text("still works")), 11);
  const [got] = await rx.receive(1);
  assert.equal(new TextDecoder().decode(got.payload), "still works");
  closeFd(parts.fd);
  const snapshot = ctx.metricsSnapshot();
  assert.equal(snapshot.publicationsAdded, 1);
  assert.equal(snapshot.publicationsRemoved, 1);
  assert.equal(snapshot.activePublications, 0);
});

Deno.test("close is idempotent; send after close throws ClosedError", () => {
  const pub = new Publication(onLo(nextPort++));
  const fd = pub.fd;
  pub.close();
  pub.close();
  pub[Symbol.dispose]();
  assert.ok(!pub.isOpen);
  assert.throws(() => pub.send(text("x")), ClosedError);
  assert.throws(() => pub.intoParts(), ClosedError);
  assert.ok(!fdIsOpen(fd) || true); // the number may be reused by now; closing must not throw
});

Deno.test("Context: ids, duplicates, unknown ids, sendAll and lifetime counters", async () => {
  using rx = new LoopbackReceiver();
  using ctx = new Context();
  const a = ctx.addPublication(onLo(rx.port));
  const b = ctx.addPublication(onLo(rx.port).withTtl(2));
  assert.deepEqual(ctx.ids, [a, b]);
  assert.deepEqual([a, b], [1, 2]);
  assert.throws(() => ctx.addPublication(onLo(rx.port)), InvalidValueError);
  assert.throws(() => ctx.send(99, text("x")), InvalidValueError);
  const sampler = MetricsSampler.forContext(ctx);
  assert.equal(sampler.sample(), null);
  const reports = ctx.sendAll(text("to all"));
  assert.deepEqual(reports.map((r) => r.publicationId), [a, b]);
  ctx.send(a, text("one"));
  assert.equal((await rx.receive(3)).length, 3);
  const delta = sampler.sample()!;
  assert.equal(delta.packetsSent, 3);
  assert.equal(delta.bytesSent, 6 + 6 + 3);
  assert.ok(ctx.removePublication(a));
  assert.ok(!ctx.removePublication(a));
  const snapshot = ctx.metricsSnapshot();
  assert.equal(snapshot.totalPacketsSent, 3, "totals survive removal");
  assert.equal(snapshot.activePublications, 1);
  assert.equal(snapshot.publicationsRemoved, 1);
  assert.equal(ctx.getPublication(b)!.metricsSnapshot().packetsSent, 1);
  ctx.close();
  assert.equal(ctx.size, 0);
});

Deno.test("AsyncPublication sends and owns the publication", async () => {
  using rx = new LoopbackReceiver();
  using ctx = new Context();
  const id = ctx.addPublication(onLo(rx.port));
  const pub = new AsyncPublication(ctx.takePublication(id)!);
  for (let i = 0; i < 100; i++) {
    const report = await pub.send(new Uint8Array([i]), { timeoutMs: 1_000 });
    assert.equal(report.bytesSent, 1);
  }
  assert.equal((await rx.receive(100)).length, 100);
  pub.close();
  pub.close();
  await assert.rejects(pub.send(new Uint8Array(1)), ClosedError);
  assert.throws(() => new AsyncPublication(pub.publication), ClosedError);
});

Deno.test("a leaked publication's socket is closed by the finalizer", async () => {
  let fd = -1;
  (() => {
    fd = new Publication(onLo(nextPort++)).fd;
  })();
  for (let i = 0; i < 50 && fdIsOpen(fd); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if ((globalThis as { gc?: () => void }).gc === undefined) return; // needs --expose-gc
  assert.ok(!fdIsOpen(fd), `fd ${fd} still open after collection`);
});
