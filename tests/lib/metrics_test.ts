import assert from "node:assert/strict";
import { InvalidValueError, MismatchError } from "../../lib/errors.ts";
import {
  ContextMetricsSnapshot,
  MetricsSampler,
  PublicationMetricsSnapshot,
} from "../../lib/metrics.ts";
import type { PublicationCountersSnapshot } from "../../lib/publication.ts";
import type { ContextCountersSnapshot } from "../../lib/context.ts";

const at = (seconds: number) => ({
  monotonicNs: BigInt(Math.round(seconds * 1e9)),
  wallClockMs: 1_700_000_000_000 + seconds * 1000,
});

function publication(
  counters: Partial<PublicationCountersSnapshot>,
  seconds: number,
): PublicationMetricsSnapshot {
  return new PublicationMetricsSnapshot({
    publicationId: 1,
    sendCalls: 0,
    packetsSent: 0,
    bytesSent: 0,
    sendErrors: 0,
    wouldBlocks: 0,
    ...counters,
    capturedAt: at(seconds),
  });
}

function context(
  counters: Partial<ContextCountersSnapshot>,
  seconds: number,
): ContextMetricsSnapshot {
  return new ContextMetricsSnapshot({
    publicationsAdded: 0,
    publicationsRemoved: 0,
    activePublications: 0,
    totalSendCalls: 0,
    totalPacketsSent: 0,
    totalBytesSent: 0,
    totalSendErrors: 0,
    totalWouldBlocks: 0,
    ...counters,
    capturedAt: at(seconds),
  });
}

Deno.test("publication delta uses the monotonic interval and gives rates", () => {
  const earlier = publication({ sendCalls: 4, packetsSent: 3, bytesSent: 300, sendErrors: 1 }, 0);
  const later = publication({
    sendCalls: 7,
    packetsSent: 5,
    bytesSent: 620,
    sendErrors: 2,
    wouldBlocks: 4,
  }, 4);
  const delta = later.deltaSince(earlier);
  assert.deepEqual(delta, {
    intervalSecs: 4,
    sendCalls: 3,
    packetsSent: 2,
    bytesSent: 320,
    sendErrors: 1,
    wouldBlocks: 4,
    sendCallsPerSec: 0.75,
    packetsPerSec: 0.5,
    bytesPerSec: 80,
    sendErrorsPerSec: 0.25,
    wouldBlocksPerSec: 1,
  });
  assert.ok(Object.isFrozen(delta));
});

Deno.test("context delta uses lifetime totals and leaves the gauge out", () => {
  const earlier = context({
    publicationsAdded: 1,
    activePublications: 1,
    totalSendCalls: 10,
    totalPacketsSent: 8,
    totalBytesSent: 800,
    totalSendErrors: 2,
  }, 0);
  const later = context({
    publicationsAdded: 2,
    publicationsRemoved: 1,
    activePublications: 1,
    totalSendCalls: 14,
    totalPacketsSent: 11,
    totalBytesSent: 1250,
    totalSendErrors: 3,
  }, 2);
  const delta = later.deltaSince(earlier);
  assert.equal(delta.intervalSecs, 2);
  assert.equal(delta.publicationsAdded, 1);
  assert.equal(delta.publicationsRemoved, 1);
  assert.equal(delta.sendCalls, 4);
  assert.equal(delta.packetsSent, 3);
  assert.equal(delta.bytesSent, 450);
  assert.equal(delta.sendErrors, 1);
  assert.equal(delta.packetsPerSec, 1.5);
  assert.equal(delta.bytesPerSec, 225);
  assert.equal("activePublications" in delta, false);
});

Deno.test("deltaSince refuses a counter that went backwards, naming it", () => {
  const earlier = publication({ packetsSent: 10 }, 0);
  const later = publication({ packetsSent: 9 }, 1);
  assert.throws(() => later.deltaSince(earlier), (error: unknown) => {
    assert.ok(error instanceof InvalidValueError);
    assert.equal(error.what, "packetsSent of the previous snapshot");
    assert.equal(error.value, 10);
    return true;
  });
  const ctxEarlier = context({ totalBytesSent: 5 }, 0);
  assert.throws(() => context({}, 1).deltaSince(ctxEarlier), InvalidValueError);
});

Deno.test("deltaSince refuses an earlier snapshot taken later, and another publication's", () => {
  assert.throws(() => publication({}, 1).deltaSince(publication({}, 2)), InvalidValueError);
  const other = new PublicationMetricsSnapshot({ ...publication({}, 0), publicationId: 2 });
  assert.throws(() => publication({}, 1).deltaSince(other), MismatchError);
});

Deno.test("a zero interval gives zero rates, not infinity", () => {
  const delta = publication({ packetsSent: 5 }, 1).deltaSince(publication({}, 1));
  assert.equal(delta.intervalSecs, 0);
  assert.equal(delta.packetsPerSec, 0);
});

Deno.test("MetricsSampler: first sample is null, then deltas between successive samples", () => {
  let packets = 0;
  let seconds = 0;
  const source = {
    metricsSnapshot: (): PublicationCountersSnapshot => ({
      publicationId: 1,
      sendCalls: packets,
      packetsSent: packets,
      bytesSent: packets * 100,
      sendErrors: 0,
      wouldBlocks: 0,
      capturedAt: at(seconds),
    }),
  };
  const sampler = MetricsSampler.forPublication(source);
  assert.equal(sampler.previous, null);
  assert.equal(sampler.sample(), null);
  packets = 50;
  seconds = 2;
  assert.equal(sampler.sample()?.packetsPerSec, 25);
  packets = 80;
  seconds = 2.5;
  const delta = sampler.sample();
  assert.equal(delta?.packetsSent, 30);
  assert.equal(delta?.packetsPerSec, 60);
  sampler.reset();
  assert.equal(sampler.sample(), null);
});

Deno.test("MetricsSampler.forContext reads a context-shaped source", () => {
  let sent = 0;
  let seconds = 10;
  const source = {
    metricsSnapshot: (): ContextCountersSnapshot =>
      context({ totalPacketsSent: sent, activePublications: 1 }, seconds),
  };
  const sampler = MetricsSampler.forContext(source);
  sampler.sample();
  sent = 30;
  seconds = 13;
  const delta = sampler.sample();
  assert.equal(delta?.packetsPerSec, 10);
  assert.equal(sampler.previous?.activePublications, 1);
});

Deno.test("snapshots are frozen copies", () => {
  const data = { ...publication({ packetsSent: 1 }, 0) };
  const snapshot = new PublicationMetricsSnapshot(data);
  assert.ok(Object.isFrozen(snapshot));
  assert.ok(Object.isFrozen(snapshot.capturedAt));
});
