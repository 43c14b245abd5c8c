// Loopback tests of Publication: every datagram goes to a group on `lo` (IP_MULTICAST_IF
// 127.0.0.1, TTL 1) and is read back by a receiver socket built on the socket seam (UdpSocket)
// in this process. Nothing leaves the host. Context and AsyncPublication have their own files
// (context_test.ts, async_publication_test.ts); the loopback helpers are in _loopback.ts.

import assert from "node:assert/strict";
import { Context } from "../../lib/context.ts";
import { ClosedError, InvalidValueError, SocketError } from "../../lib/errors.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { Publication } from "../../lib/publication.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { borrow } from "../ffi/_sockets.ts";
import { fdIsOpen, freshPort, GROUP, LoopbackReceiver, onLo, text } from "./_loopback.ts";

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

Deno.test("send reaches a loopback receiver with the configured TTL and DSCP", async () => {
  using rx = new LoopbackReceiver();
  using pub = new Publication(
    onLo(rx.port).withTtl(3).withDscp("af41").withSourcePort(rx.port + 1000),
    {
      id: 42,
    },
  );
  assert.ok(borrow(pub.fd, (socket) => socket.isNonBlocking()));
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
  const port = freshPort();
  using pub = new Publication(onLo(port));
  assert.throws(() => pub.send(new Uint8Array(70_000)), (error: unknown) => {
    assert.ok(error instanceof SocketError);
    assert.equal(
      error.message,
      `Failed to send: EMSGSIZE (errno 90): 70000 bytes to ${GROUP}:${port}`,
      "the socket names its destination",
    );
    return true;
  });
  assert.equal(pub.counters.sendErrors, 1);
});

Deno.test("waitWritable: a socket with room is writable at once; closed is ClosedError", async () => {
  const pub = new Publication(onLo(freshPort()));
  const started = performance.now();
  assert.equal(await pub.waitWritable(5_000), true);
  assert.ok(performance.now() - started < 1_000, "no wait with an empty buffer");
  pub.close();
  await assert.rejects(pub.waitWritable(10), ClosedError);
});

Deno.test("withIpv4InterfaceIndex picks lo by index (IP_MULTICAST_IF with ip_mreqn)", async () => {
  using rx = new LoopbackReceiver();
  using pub = new Publication(
    new PublicationConfig(GROUP, rx.port).withIpv4InterfaceIndex(1).withTtl(1),
  );
  assert.equal(pub.interfaceIndex, 1);
  pub.send(text("by index"));
  const [got] = await rx.receive(1);
  assert.equal(new TextDecoder().decode(got.payload), "by index");
  assert.throws(
    () => new Publication(new PublicationConfig(GROUP, rx.port).withIpv4InterfaceIndex(999_999)),
    (error: unknown) =>
      error instanceof SocketError &&
      error.message ===
        "Failed to setsockopt(IP_MULTICAST_IF): EADDRNOTAVAIL (errno 99): interface index 999999",
  );
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
  const socket = UdpSocket.adopt(parts.fd, "the moved socket");
  assert.equal(socket.send(text("still works")), 11);
  const [got] = await rx.receive(1);
  assert.equal(new TextDecoder().decode(got.payload), "still works");
  socket.close();
  assert.ok(!fdIsOpen(parts.fd));
  const snapshot = ctx.metricsSnapshot();
  assert.equal(snapshot.publicationsAdded, 1);
  assert.equal(snapshot.publicationsRemoved, 1);
  assert.equal(snapshot.activePublications, 0);
});

Deno.test("close is idempotent; send after close throws ClosedError", () => {
  const pub = new Publication(onLo(freshPort()));
  const fd = pub.fd;
  pub.close();
  pub.close();
  pub[Symbol.dispose]();
  assert.ok(!pub.isOpen);
  assert.throws(() => pub.send(text("x")), ClosedError);
  assert.throws(() => pub.intoParts(), ClosedError);
  assert.ok(!fdIsOpen(fd) || true); // the number may be reused by now; closing must not throw
});

Deno.test("a leaked publication's socket is closed by the finalizer", async () => {
  let fd = -1;
  (() => {
    fd = new Publication(onLo(freshPort())).fd;
  })();
  for (let i = 0; i < 50 && fdIsOpen(fd); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if ((globalThis as { gc?: () => void }).gc === undefined) return; // needs --expose-gc
  assert.ok(!fdIsOpen(fd), `fd ${fd} still open after collection`);
});

Deno.test("a source address this host does not have is EADDRNOTAVAIL for IPv6 as for IPv4", () => {
  for (const [group, source] of [["239.1.2.3", "10.255.255.77"], ["ff3e::1", "fd99::77"]]) {
    assert.throws(
      () => new Publication(new PublicationConfig(group, 5000).withSourceAddr(source)),
      (e: unknown) =>
        e instanceof SocketError && e.errnoName === "EADDRNOTAVAIL" && e.message.includes(source),
      `${source} for ${group}`,
    );
  }
});
