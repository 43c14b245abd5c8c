// Tests of Context: the publications it owns (ids, add/get/take/remove, duplicate configs,
// caller-provided sockets), sends through one or all of them, closing, and its lifetime
// counters. Loopback only (a group on `lo`, read back in this process), except the would-block
// test, which runs in lab namespaces where a socket buffer really fills (_lab_peers.ts).

import assert from "node:assert/strict";
import { Context } from "../../lib/context.ts";
import { ClosedError, InvalidValueError, MismatchError } from "../../lib/errors.ts";
import { MetricsSampler } from "../../lib/metrics.ts";
import type { SendReport } from "../../lib/publication.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { monotonicNs } from "../../ffi/clock.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { labTest } from "../lab/mod.ts";
import { blockedEgress, peerSteps } from "./_lab_peers.ts";
import { bindTo, borrow } from "../ffi/_sockets.ts";
import { fdIsOpen, freshPort, GROUP, LoopbackReceiver, onLo, text } from "./_loopback.ts";
import type { ErrorDescription } from "./_peer_report.ts";

const BLOCKED_PEER = new URL("./_blocked_publication.ts", import.meta.url).pathname;

/** True while `/proc/self/fd/<fd>` exists and names a socket. */
function procFdIsSocket(fd: number): boolean {
  try {
    return Deno.readLinkSync(`/proc/self/fd/${fd}`).startsWith("socket:[");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("a caller-provided socket is made non-blocking, checked and configured", async () => {
  using rx = new LoopbackReceiver();
  using ctx = new Context();
  const socket = UdpSocket.open("IPv4", { nonBlocking: false });
  assert.ok(!socket.isNonBlocking());
  const fd = socket.fd;
  const id = ctx.addPublicationWithSocket(onLo(rx.port), fd);
  socket.release(); // the publication owns it now
  const pub = ctx.getPublication(id)!;
  assert.equal(pub.fd, fd);
  assert.ok(borrow(fd, (s) => s.isNonBlocking()));
  ctx.send(id, text("from your socket"));
  const [got] = await rx.receive(1);
  assert.equal(new TextDecoder().decode(got.payload), "from your socket");
  assert.equal(got.source, "127.0.0.1");
});

Deno.test("a caller-provided socket of the other family is refused and stays the caller's", () => {
  using ctx = new Context();
  using socket6 = UdpSocket.open("IPv6");
  const fd6 = socket6.fd;
  assert.throws(() => ctx.addPublicationWithSocket(onLo(freshPort()), fd6), (error: unknown) => {
    assert.ok(error instanceof MismatchError);
    assert.equal(error.actual, "IPv6");
    assert.match(
      error.message,
      /^Mismatched address family of socket fd \d+: expected IPv4, got IPv6$/,
    );
    return true;
  });
  assert.ok(fdIsOpen(fd6));
  assert.equal(ctx.size, 0);
  assert.equal(ctx.metricsSnapshot().publicationsAdded, 0);
  using socket4 = UdpSocket.open("IPv4");
  assert.throws(
    () => ctx.addPublicationWithSocket(new PublicationConfig("ff3e::1", 5000), socket4.fd),
    MismatchError,
  );
  assert.ok(fdIsOpen(socket4.fd));
});

Deno.test("a caller-provided bound socket must match the configured source and port", () => {
  using ctx = new Context();
  const socket = UdpSocket.open("IPv4");
  const fd = socket.fd;
  try {
    bindTo(socket, "127.0.0.1", 0);
    const bound = socket.localEndpoint();
    assert.throws(
      () => ctx.addPublicationWithSocket(onLo(freshPort()).withSourceAddr("127.0.0.2"), fd),
      MismatchError,
    );
    assert.throws(
      () => ctx.addPublicationWithSocket(onLo(freshPort()).withSourcePort(bound.port + 1), fd),
      MismatchError,
    );
    const id = ctx.addPublicationWithSocket(onLo(freshPort()).withSourcePort(bound.port), fd);
    socket.release(); // the publication owns it now
    assert.equal(ctx.getPublication(id)!.localAddr.port, bound.port);
  } catch (error) {
    socket.close();
    throw error;
  }
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

Deno.test("Context numbers publications 1, 2, 3 …, hands them out and never reuses an id", () => {
  using ctx = new Context();
  const configs = [onLo(freshPort()), onLo(freshPort()), onLo(freshPort())];
  const ids = configs.map((config) => ctx.addPublication(config));
  assert.deepEqual(ids, [1, 2, 3]);
  assert.deepEqual(ctx.ids, [1, 2, 3]);
  assert.equal(ctx.size, 3);
  for (const [i, id] of ids.entries()) {
    const publication = ctx.getPublication(id)!;
    assert.equal(publication.id, id);
    assert.ok(publication.config.equals(configs[i]));
    assert.ok(publication.isOpen);
  }
  assert.equal(ctx.getPublication(0), undefined);
  assert.equal(ctx.getPublication(4), undefined);

  const removedFd = ctx.getPublication(2)!.fd;
  assert.equal(ctx.removePublication(2), true);
  assert.ok(!fdIsOpen(removedFd), "remove closes the socket");
  assert.equal(ctx.removePublication(2), false);
  assert.equal(ctx.removePublication(99), false);
  assert.equal(ctx.getPublication(2), undefined);
  assert.deepEqual(ctx.ids, [1, 3]);
  assert.equal(ctx.addPublication(onLo(freshPort())), 4, "ids are not reused");

  const taken = ctx.takePublication(3)!;
  assert.equal(taken.id, 3);
  assert.ok(taken.isOpen, "take does not close");
  assert.equal(ctx.takePublication(3), undefined);
  assert.equal(ctx.takePublication(99), undefined);
  assert.deepEqual(ctx.ids, [1, 4]);
  const takenFd = taken.fd;
  ctx.close();
  assert.ok(fdIsOpen(takenFd), "a taken publication is the caller's: close leaves it open");
  taken.close();
  assert.ok(!fdIsOpen(takenFd));
  const snapshot = ctx.metricsSnapshot();
  assert.equal(snapshot.publicationsAdded, 4);
  assert.equal(snapshot.publicationsRemoved, 4, "remove, take and close all count");
  assert.equal(snapshot.activePublications, 0);
});

Deno.test("Context refuses a config it already uses, before opening a socket", () => {
  using ctx = new Context();
  const port = freshPort();
  assert.equal(ctx.addPublication(onLo(port)), 1);
  const same = new PublicationConfig(GROUP, port).withOutgoingInterface("127.0.0.1").withTtl(1);
  assert.throws(() => ctx.addPublication(same), (error: unknown) => {
    assert.ok(error instanceof InvalidValueError);
    assert.equal(error.what, "publication config");
    assert.deepEqual(error.value, same.toJSON());
    assert.equal(error.expected, "a config not already used by publication 1 of this context");
    assert.equal(
      error.message,
      `Invalid publication config: ${
        JSON.stringify(same.toJSON())
      } (expected a config not already used by publication 1 of this context)`,
    );
    return true;
  });
  // A caller's socket offered with a used config is left exactly as it was: still blocking, open.
  {
    using socket = UdpSocket.open("IPv4", { nonBlocking: false });
    assert.throws(() => ctx.addPublicationWithSocket(same, socket.fd), InvalidValueError);
    assert.ok(fdIsOpen(socket.fd));
    assert.ok(!socket.isNonBlocking(), "refused before the socket was touched");
  }
  assert.equal(ctx.metricsSnapshot().publicationsAdded, 1);
  assert.equal(ctx.addPublication(same.withTtl(2)), 2, "another TTL is another config");
  assert.ok(ctx.removePublication(1));
  assert.equal(ctx.addPublication(same), 3, "a removed publication's config is free again");
});

Deno.test("sendAll sends through every publication in id order and reports each", async () => {
  using rxA = new LoopbackReceiver();
  using rxB = new LoopbackReceiver();
  using ctx = new Context();
  assert.deepEqual(ctx.sendAll(text("nobody")), []);
  assert.equal(ctx.counters.totalSendCalls, 0);
  const a = ctx.addPublication(onLo(rxA.port));
  const b = ctx.addPublication(onLo(rxB.port));
  const c = ctx.addPublication(onLo(rxB.port).withTtl(2));
  const earlier = { publicationId: 0 } as SendReport;
  const out = [earlier];
  const returned = ctx.sendAll(text("all"), out);
  assert.equal(returned, out, "reports go into the array passed");
  assert.equal(out[0], earlier);
  const reports = out.slice(1);
  assert.deepEqual(reports.map((r) => r.publicationId), [a, b, c]);
  assert.deepEqual(reports.map((r) => r.destination.port), [rxA.port, rxB.port, rxB.port]);
  for (const report of reports) {
    assert.equal(report.bytesSent, 3);
    assert.equal(report.sourceAddr, "127.0.0.1");
    assert.equal(report.destination.address, GROUP);
  }
  assert.equal((await rxA.receive(1)).length, 1);
  const atB = await rxB.receive(2);
  assert.deepEqual(atB.map((d) => d.ttl).sort(), [1, 2]);

  // Make the middle publication fail (closing it behind the context's back): sendAll stops
  // there and keeps the report made before the failure.
  ctx.getPublication(b)!.close();
  const partial: SendReport[] = [];
  assert.throws(() => ctx.sendAll(text("again"), partial), ClosedError);
  assert.deepEqual(partial.map((r) => r.publicationId), [a]);
  assert.equal((await rxA.receive(1)).length, 1);
  assert.equal((await rxB.receive(1, 300)).length, 0, "c after the failure was not sent");
  const snapshot = ctx.metricsSnapshot();
  assert.equal(snapshot.totalSendCalls, 5);
  assert.equal(snapshot.totalPacketsSent, 4);
  assert.equal(snapshot.totalBytesSent, 3 * 3 + 5);
  assert.equal(snapshot.totalSendErrors, 1);
});

Deno.test("close and dispose close every socket the context owns", () => {
  const ctx = new Context();
  const ids = [ctx.addPublication(onLo(freshPort())), ctx.addPublication(onLo(freshPort()))];
  const fds = ids.map((id) => ctx.getPublication(id)!.fd);
  for (const fd of fds) assert.ok(fdIsOpen(fd) && procFdIsSocket(fd), `fd ${fd} not a socket`);
  ctx.close();
  for (const fd of fds) {
    assert.ok(!fdIsOpen(fd), `fd ${fd} still open after close`);
    assert.ok(!procFdIsSocket(fd), `/proc/self/fd/${fd} still a socket`);
  }
  assert.equal(ctx.size, 0);
  assert.deepEqual(ctx.ids, []);
  ctx.close();
  ctx[Symbol.dispose]();
  assert.equal(ctx.metricsSnapshot().publicationsRemoved, 2);
  assert.equal(ctx.addPublication(onLo(freshPort())), 3, "the context stays usable");
  ctx.close();

  let disposed: number[] = [];
  {
    using scoped = new Context();
    disposed = [scoped.addPublication(onLo(freshPort())), scoped.addPublication(onLo(freshPort()))]
      .map((id) => scoped.getPublication(id)!.fd);
    for (const fd of disposed) assert.ok(fdIsOpen(fd));
  }
  for (const fd of disposed) assert.ok(!fdIsOpen(fd), `fd ${fd} still open after dispose`);
});

Deno.test("metricsSnapshot: frozen copies of the lifetime counters with the capture time", async () => {
  using rx = new LoopbackReceiver();
  using ctx = new Context();
  const before = monotonicNs();
  const empty = ctx.metricsSnapshot();
  const { capturedAt, ...counters } = empty;
  assert.deepEqual(counters, {
    publicationsAdded: 0,
    publicationsRemoved: 0,
    totalSendCalls: 0,
    totalPacketsSent: 0,
    totalBytesSent: 0,
    totalSendErrors: 0,
    totalWouldBlocks: 0,
    activePublications: 0,
  });
  assert.ok(Object.isFrozen(empty) && Object.isFrozen(capturedAt));
  assert.equal(typeof capturedAt.monotonicNs, "bigint");
  assert.ok(capturedAt.monotonicNs >= before);
  assert.ok(Math.abs(capturedAt.wallClockMs - Date.now()) < 60_000);

  const id = ctx.addPublication(onLo(rx.port));
  ctx.send(id, text("hello"));
  ctx.send(id, text("abc"));
  assert.throws(() => ctx.send(id, new Uint8Array(70_000)), /EMSGSIZE/);
  assert.throws(() => ctx.send(id + 1, text("x")), (error: unknown) => {
    assert.ok(error instanceof InvalidValueError);
    assert.equal(
      error.message,
      `Invalid publication id: ${id + 1} (expected the id of a publication in this context)`,
    );
    return true;
  });
  const live = ctx.counters;
  assert.equal(live, ctx.counters, "counters is the live object");
  const snapshot = ctx.metricsSnapshot();
  const { capturedAt: later, ...totals } = snapshot;
  assert.deepEqual(totals, {
    publicationsAdded: 1,
    publicationsRemoved: 0,
    totalSendCalls: 3, // the unknown id is refused before a send is issued
    totalPacketsSent: 2,
    totalBytesSent: 8,
    totalSendErrors: 1,
    totalWouldBlocks: 0,
    activePublications: 1,
  });
  assert.ok(later.monotonicNs >= capturedAt.monotonicNs);
  assert.equal(empty.totalPacketsSent, 0, "an earlier snapshot is a copy");
  ctx.send(id, text("z"));
  assert.equal(live.totalPacketsSent, 3);
  assert.equal(snapshot.totalPacketsSent, 2);
  assert.equal((await rx.receive(3)).length, 3);
});

labTest(
  "Context counts would-blocks; sendAll stops at the first full buffer with earlier reports",
  async (lab) => {
    const blocked = await blockedEgress(lab);
    const peer = blocked.sender.spawnDeno(BLOCKED_PEER, {
      args: ["context", "239.77.7.8", "7010"],
    });
    const steps = await peerSteps(peer);
    const filled = steps.filled as {
      roomy: number;
      tiny: number;
      sndbuf: number;
      sent: number;
      error: ErrorDescription;
      counters: Record<string, number>;
    };
    assert.deepEqual([filled.roomy, filled.tiny], [1, 2]);
    assert.equal(filled.sndbuf, 8192);
    const sent = filled.sent;
    assert.ok(sent >= 1 && sent < 10_000, `sent ${sent}`);
    assert.equal(filled.error.kind, "WouldBlockError");
    assert.ok(filled.error.isSocketError);
    assert.equal(filled.error.errnoName, "EAGAIN");
    assert.equal(filled.error.errno, P.errno.EAGAIN);
    assert.equal(
      filled.error.message,
      `Failed to send: EAGAIN (errno ${P.errno.EAGAIN}): 64 bytes to 239.77.7.8:7011`,
    );
    assert.deepEqual(filled.counters, {
      publicationsAdded: 2,
      publicationsRemoved: 0,
      totalSendCalls: sent + 1,
      totalPacketsSent: sent,
      totalBytesSent: 64 * sent,
      totalSendErrors: 0,
      totalWouldBlocks: 1,
      activePublications: 2,
    });

    const all = steps.sendAll as {
      error: ErrorDescription;
      reports: { publicationId: number; bytesSent: number }[];
      counters: Record<string, number>;
      tinyCounters: Record<string, number>;
    };
    assert.equal(all.error.kind, "WouldBlockError");
    assert.deepEqual(all.reports, [{ publicationId: 1, bytesSent: 64 }]);
    assert.equal(all.counters.totalSendCalls, sent + 3);
    assert.equal(all.counters.totalPacketsSent, sent + 1);
    assert.equal(all.counters.totalBytesSent, 64 * (sent + 1));
    assert.equal(all.counters.totalWouldBlocks, 2);
    assert.equal(all.counters.totalSendErrors, 0, "a would-block is not a send error");
    assert.deepEqual(all.tinyCounters, {
      sendCalls: sent + 2,
      packetsSent: sent,
      bytesSent: 64 * sent,
      sendErrors: 0,
      wouldBlocks: 2,
    });
  },
  { requires: ["tc"], timeoutMs: 60_000 },
);
