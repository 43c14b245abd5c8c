// Tests of AsyncPublication: on loopback (the socket always has room: no waiting), and in lab
// namespaces where the socket's buffer really fills (_lab_peers.ts `blockedEgress`: a qdisc
// that holds datagrams), so the wait, time-limit and abort paths run against real EAGAIN.

import assert from "node:assert/strict";
import { AsyncPublication } from "../../lib/async_publication.ts";
import { Context } from "../../lib/context.ts";
import { ClosedError, InvalidValueError } from "../../lib/errors.ts";
import { Publication } from "../../lib/publication.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { labTest } from "../lab/mod.ts";
import {
  addTokenBucket,
  blockedEgress,
  peerSteps,
  RECEIVER,
  results,
  startReceiver,
  unblockEgress,
} from "./_lab_peers.ts";
import { fdIsOpen, freshPort, LoopbackReceiver, onLo } from "./_loopback.ts";
import type { ErrorDescription } from "./_peer_report.ts";

const BLOCKED_PEER = new URL("./_blocked_publication.ts", import.meta.url).pathname;

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

Deno.test("AsyncPublication refuses what is not an open Publication", () => {
  assert.throws(
    () => new AsyncPublication({ fd: 0 } as unknown as Publication),
    (error: unknown) => {
      assert.ok(error instanceof InvalidValueError);
      assert.equal(error.message, 'Invalid publication: {"fd":0} (expected a Publication)');
      return true;
    },
  );
  const closed = new Publication(onLo(freshPort()), { id: 7 });
  closed.close();
  assert.throws(() => new AsyncPublication(closed), (error: unknown) => {
    assert.ok(error instanceof ClosedError);
    assert.equal(error.message, "Already closed: publication 7");
    return true;
  });
  const moved = new Publication(onLo(freshPort()), { id: 8 });
  using _socket = UdpSocket.adopt(moved.intoParts().fd);
  assert.throws(() => new AsyncPublication(moved), ClosedError);
});

Deno.test("AsyncPublication exposes the fd, needs no wait with room, and disposes its socket", async () => {
  using rx = new LoopbackReceiver();
  let fd = -1;
  {
    using pub = new AsyncPublication(new Publication(onLo(rx.port), { id: 3 }));
    fd = pub.fd;
    assert.equal(fd, pub.publication.fd);
    const report = await pub.send(new Uint8Array(12), { signal: new AbortController().signal });
    assert.equal(report.publicationId, 3);
    assert.equal(report.bytesSent, 12);
    assert.equal(pub.waits, 0);
    assert.equal(pub.publication.counters.wouldBlocks, 0);
    assert.ok(fdIsOpen(fd));
  }
  assert.ok(!fdIsOpen(fd), `fd ${fd} still open after dispose`);
  assert.equal((await rx.receive(1)).length, 1);
});

// Regression: timeoutMs was once validated only after the first trySend found the buffer full.
Deno.test("an invalid timeoutMs is refused even when the socket has room", async () => {
  using rx = new LoopbackReceiver();
  using pub = new AsyncPublication(new Publication(onLo(rx.port)));
  await assert.rejects(pub.send(new Uint8Array(1), { timeoutMs: -1 }), InvalidValueError);
  assert.equal(pub.publication.counters.sendCalls, 0, "nothing is sent with invalid options");
});

labTest(
  "AsyncPublication with a tiny SO_SNDBUF meets real EAGAIN and delivers all 100k sends",
  async (lab) => {
    const a = await lab.addNamespace("a");
    const b = await lab.addNamespace("b");
    const link = await lab.link(a, b);
    // A rate-limiting qdisc keeps datagrams charged to the sender's socket, so its tiny send buffer
    // fills; with the socket's buffer as the only queue, the qdisc never has to drop.
    await addTokenBucket(a, link.a.name, ["rate", "20mbit", "burst", "16kbit", "latency", "100ms"]);
    const rx = await startReceiver(b, [
      "--group",
      "239.4.4.4",
      "--port",
      "6006",
      "--interface",
      link.b.name,
      "--expect",
      "100000",
      "--count-only",
      "--rcvbuf",
      String(32 << 20),
      "--idle-ms",
      "5000",
      "--timeout-ms",
      "60000",
    ]);
    // The socket is made by the peer, then handed in with addPublicationWithSocket.
    const sender = await a.runDeno(RECEIVER, {
      args: [
        "--mode",
        "async-send",
        "--group",
        "239.4.4.4",
        "--port",
        "6006",
        "--count",
        "100000",
        "--size",
        "64",
        "--sndbuf",
        "4096",
        "--timeout-ms",
        "60000",
      ],
      timeoutMs: 70_000,
    });
    assert.equal(sender.code, 0, sender.stderr);
    const sent = JSON.parse(sender.stdout.trim().split("\n").pop()!);
    assert.equal(sent.sent, 100_000);
    assert.equal(sent.sendErrors, 0);
    assert.ok(sent.wouldBlocks > 0, `EAGAIN never happened: ${JSON.stringify(sent)}`);
    assert.equal(sent.waits, sent.wouldBlocks);
    const { summary } = await results(rx);
    assert.equal(summary.count, 100_000);
    assert.equal(summary.unique, 100_000);
    assert.deepEqual(summary.ttls, [4]);
  },
  { requires: ["tc"], timeoutMs: 120_000 },
);

labTest(
  "AsyncPublication on a full buffer: time limit, abort signal, invalid options, then delivery",
  async (lab) => {
    const blocked = await blockedEgress(lab);
    const peer = blocked.sender.spawnDeno(BLOCKED_PEER, { args: ["async", "239.77.7.7", "7000"] });
    await peer.waitForOutput(/"step":"waiting"/, 30_000);
    await unblockEgress(blocked);
    const steps = await peerSteps(peer);

    const filled = steps.filled as { sndbuf: number; filled: number; wouldBlocks: number };
    assert.equal(filled.sndbuf, 8192, "Linux doubles SO_SNDBUF");
    assert.ok(filled.filled >= 1 && filled.filled < 10_000, `filled ${filled.filled}`);
    assert.equal(filled.wouldBlocks, 1);

    const errorOf = (step: string) => steps[step].error as ErrorDescription;
    const waitsOf = (step: string) => steps[step].waits as number;

    const timeout = errorOf("timeout");
    assert.equal(timeout.kind, "SocketError");
    assert.ok(timeout.isMcastError && !timeout.isWouldBlock);
    assert.equal(timeout.syscall, "send");
    assert.equal(timeout.errno, P.errno.ETIMEDOUT);
    assert.equal(timeout.errnoName, "ETIMEDOUT");
    assert.equal(timeout.value, "no room in the socket buffer within 300 ms");
    assert.equal(
      timeout.message,
      `Failed to send: ETIMEDOUT (errno ${P.errno.ETIMEDOUT}): no room in the socket buffer within 300 ms`,
    );
    assert.ok(
      (steps.timeout.elapsedMs as number) >= 299,
      `gave up early: ${steps.timeout.elapsedMs}`,
    );
    assert.ok(waitsOf("timeout") >= 1);

    const zero = errorOf("timeoutZero");
    assert.equal(zero.errnoName, "ETIMEDOUT");
    assert.equal(zero.value, "no room in the socket buffer within 0 ms");
    assert.equal(waitsOf("timeoutZero"), 0, "a zero limit does not wait");

    const invalid = steps.invalid.errors as ErrorDescription[];
    assert.deepEqual(invalid.map((e) => [e.kind, e.message]), [
      [
        "InvalidValueError",
        "Invalid timeoutMs: -1 (expected a non-negative number of milliseconds)",
      ],
      [
        "InvalidValueError",
        "Invalid timeoutMs: NaN (expected a non-negative number of milliseconds)",
      ],
    ]);

    const abort = errorOf("abort");
    assert.equal(abort.kind, "string", "the promise rejects with the signal's reason itself");
    assert.equal(abort.name, "stop-now");
    assert.ok((steps.abort.elapsedMs as number) >= 140, `aborted early: ${steps.abort.elapsedMs}`);
    assert.ok(waitsOf("abort") >= 1);

    const early = errorOf("preAborted");
    assert.equal(early.kind, "string");
    assert.equal(early.name, "early");
    assert.equal(waitsOf("preAborted"), 0, "an aborted signal does not wait");

    const signalTimeout = errorOf("signalTimeout");
    assert.equal(signalTimeout.kind, "DOMException");
    assert.equal(signalTimeout.name, "TimeoutError");
    assert.ok(waitsOf("signalTimeout") >= 1);

    const counters = steps.counters as Record<string, number>;
    assert.equal(counters.sendErrors, 0);
    assert.equal(counters.packetsSent, filled.filled);
    assert.equal(counters.bytesSent, filled.filled * 64);
    assert.equal(counters.sendCalls, counters.packetsSent + counters.wouldBlocks);
    // One refused trySend per call at least: fill, timeout, zero, 2 invalid, abort, pre-aborted,
    // signal timeout.
    assert.ok(counters.wouldBlocks >= 8, `wouldBlocks ${counters.wouldBlocks}`);

    const unblocked = steps.unblocked as {
      error?: ErrorDescription;
      bytesSent: number;
      counters: Record<string, number>;
    };
    assert.equal(unblocked.error, undefined, JSON.stringify(unblocked.error));
    assert.equal(unblocked.bytesSent, 64);
    assert.equal(unblocked.counters.packetsSent, filled.filled + 1);
    assert.equal(unblocked.counters.sendErrors, 0);
  },
  { requires: ["tc"], timeoutMs: 60_000 },
);
