/**
 * Sender metrics, kept out of the core (mctx-core's `metrics` feature): the publication and
 * context count with plain number fields in their send paths; this module turns those counters
 * into timestamped snapshots, deltas between snapshots, and per-second rates.
 *
 * - A **snapshot** is cumulative: counters since the publication (or context) was created, plus
 *   `capturedAt` (monotonic nanoseconds for intervals, wall clock for logs). The context's
 *   `activePublications` is a gauge, not a counter.
 * - A **delta** is the change between two snapshots of the same thing over the interval between
 *   them, measured on the monotonic clock, with per-second rates. `deltaSince()` refuses a
 *   counter that went backwards, an earlier snapshot taken later, or another publication's.
 * - A **{@linkcode MetricsSampler}** keeps the previous snapshot; its first `sample()` gives null.
 *
 * @module
 */

import { InvalidValueError, MismatchError } from "./errors.ts";
import type { CaptureTime, PublicationCountersSnapshot } from "./publication.ts";

// Re-exported so that this entry point documents every type it exposes.
export type { CaptureTime, PublicationCountersSnapshot } from "./publication.ts";
export type { ContextCountersSnapshot } from "./context.ts";
import type { ContextCountersSnapshot } from "./context.ts";

/** Per-interval changes and rates of a publication's counters. */
export interface PublicationMetricsDelta {
  /** Seconds between the two snapshots, on the monotonic clock. */
  readonly intervalSecs: number;
  /** Send calls in the interval. */
  readonly sendCalls: number;
  /** Datagrams sent in the interval. */
  readonly packetsSent: number;
  /** Payload bytes sent in the interval. */
  readonly bytesSent: number;
  /** Send errors in the interval. */
  readonly sendErrors: number;
  /** Would-blocks in the interval. */
  readonly wouldBlocks: number;
  /** Send calls per second. */
  readonly sendCallsPerSec: number;
  /** Datagrams per second. */
  readonly packetsPerSec: number;
  /** Payload bytes per second. */
  readonly bytesPerSec: number;
  /** Send errors per second. */
  readonly sendErrorsPerSec: number;
  /** Would-blocks per second. */
  readonly wouldBlocksPerSec: number;
}

/** Per-interval changes and rates of a context's counters (gauges are left out). */
export interface ContextMetricsDelta {
  /** Seconds between the two snapshots, on the monotonic clock. */
  readonly intervalSecs: number;
  /** Publications added in the interval. */
  readonly publicationsAdded: number;
  /** Publications removed in the interval. */
  readonly publicationsRemoved: number;
  /** Send calls in the interval. */
  readonly sendCalls: number;
  /** Datagrams sent in the interval. */
  readonly packetsSent: number;
  /** Payload bytes sent in the interval. */
  readonly bytesSent: number;
  /** Send errors in the interval. */
  readonly sendErrors: number;
  /** Would-blocks in the interval. */
  readonly wouldBlocks: number;
  /** Send calls per second. */
  readonly sendCallsPerSec: number;
  /** Datagrams per second. */
  readonly packetsPerSec: number;
  /** Payload bytes per second. */
  readonly bytesPerSec: number;
  /** Send errors per second. */
  readonly sendErrorsPerSec: number;
  /** Would-blocks per second. */
  readonly wouldBlocksPerSec: number;
}

/**
 * A cumulative snapshot of one publication's counters.
 *
 * @example
 * ```ts
 * import { PublicationMetricsSnapshot } from "./metrics.ts";
 * const at = (s: number) => ({ monotonicNs: BigInt(s * 1e9), wallClockMs: s * 1000 });
 * const base = { publicationId: 1, sendErrors: 0, wouldBlocks: 0 };
 * const earlier = new PublicationMetricsSnapshot({
 *   ...base, sendCalls: 4, packetsSent: 3, bytesSent: 300, capturedAt: at(10),
 * });
 * const later = new PublicationMetricsSnapshot({
 *   ...base, sendCalls: 7, packetsSent: 5, bytesSent: 620, capturedAt: at(14),
 * });
 * const delta = later.deltaSince(earlier);
 * delta.packetsSent; // 2
 * delta.bytesPerSec; // 80
 * ```
 */
export class PublicationMetricsSnapshot implements PublicationCountersSnapshot {
  /** The publication. */
  readonly publicationId: number;
  /** Send calls since creation. */
  readonly sendCalls: number;
  /** Datagrams sent since creation. */
  readonly packetsSent: number;
  /** Payload bytes sent since creation. */
  readonly bytesSent: number;
  /** Send errors since creation. */
  readonly sendErrors: number;
  /** Would-blocks since creation. */
  readonly wouldBlocks: number;
  /** When the counters were read. */
  readonly capturedAt: CaptureTime;

  /**
   * A snapshot from counter values (for example `publication.metricsSnapshot()`).
   *
   * @param data The counters and the capture time.
   */
  constructor(data: PublicationCountersSnapshot) {
    this.publicationId = data.publicationId;
    this.sendCalls = data.sendCalls;
    this.packetsSent = data.packetsSent;
    this.bytesSent = data.bytesSent;
    this.sendErrors = data.sendErrors;
    this.wouldBlocks = data.wouldBlocks;
    this.capturedAt = Object.freeze({ ...data.capturedAt });
    Object.freeze(this);
  }

  /**
   * Reads a publication's counters now.
   *
   * @example
   * ```ts ignore
   * const snapshot = PublicationMetricsSnapshot.capture(publication);
   * ```
   *
   * @param source The publication (anything with `metricsSnapshot()`).
   * @returns The snapshot.
   */
  static capture(
    source: { metricsSnapshot(): PublicationCountersSnapshot },
  ): PublicationMetricsSnapshot {
    return new PublicationMetricsSnapshot(source.metricsSnapshot());
  }

  /**
   * The change since an earlier snapshot of the same publication.
   *
   * @example
   * ```ts ignore
   * const delta = PublicationMetricsSnapshot.capture(pub).deltaSince(earlier);
   * ```
   *
   * @param previous The earlier snapshot.
   * @returns Counter deltas and per-second rates.
   * @throws {MismatchError} When `previous` is another publication's.
   * @throws {InvalidValueError} When `previous` was taken later, or a counter went backwards.
   */
  deltaSince(previous: PublicationMetricsSnapshot): PublicationMetricsDelta {
    if (previous.publicationId !== this.publicationId) {
      throw new MismatchError(
        "publication id of the previous snapshot",
        this.publicationId,
        previous.publicationId,
      );
    }
    const intervalSecs = interval(this.capturedAt, previous.capturedAt);
    const sendCalls = counterDelta("sendCalls", this.sendCalls, previous.sendCalls);
    const packetsSent = counterDelta("packetsSent", this.packetsSent, previous.packetsSent);
    const bytesSent = counterDelta("bytesSent", this.bytesSent, previous.bytesSent);
    const sendErrors = counterDelta("sendErrors", this.sendErrors, previous.sendErrors);
    const wouldBlocks = counterDelta("wouldBlocks", this.wouldBlocks, previous.wouldBlocks);
    return Object.freeze({
      intervalSecs,
      sendCalls,
      packetsSent,
      bytesSent,
      sendErrors,
      wouldBlocks,
      sendCallsPerSec: ratePerSec(sendCalls, intervalSecs),
      packetsPerSec: ratePerSec(packetsSent, intervalSecs),
      bytesPerSec: ratePerSec(bytesSent, intervalSecs),
      sendErrorsPerSec: ratePerSec(sendErrors, intervalSecs),
      wouldBlocksPerSec: ratePerSec(wouldBlocks, intervalSecs),
    });
  }
}

/**
 * A cumulative snapshot of a context's counters, with the active publication count (a gauge).
 *
 * @example
 * ```ts
 * import { ContextMetricsSnapshot } from "./metrics.ts";
 * const at = (s: number) => ({ monotonicNs: BigInt(s * 1e9), wallClockMs: s * 1000 });
 * const zero = {
 *   publicationsAdded: 1, publicationsRemoved: 0, activePublications: 1, totalSendCalls: 10,
 *   totalPacketsSent: 8, totalBytesSent: 800, totalSendErrors: 2, totalWouldBlocks: 0,
 * };
 * const earlier = new ContextMetricsSnapshot({ ...zero, capturedAt: at(0) });
 * const later = new ContextMetricsSnapshot({
 *   ...zero, totalPacketsSent: 11, totalBytesSent: 1250, capturedAt: at(2),
 * });
 * later.deltaSince(earlier).packetsPerSec; // 1.5
 * ```
 */
export class ContextMetricsSnapshot implements ContextCountersSnapshot {
  /** Publications added since creation. */
  readonly publicationsAdded: number;
  /** Publications removed or taken since creation. */
  readonly publicationsRemoved: number;
  /** Publications owned at capture time (a gauge). */
  readonly activePublications: number;
  /** Send calls through the context since creation. */
  readonly totalSendCalls: number;
  /** Datagrams sent through the context since creation. */
  readonly totalPacketsSent: number;
  /** Payload bytes sent through the context since creation. */
  readonly totalBytesSent: number;
  /** Send errors since creation. */
  readonly totalSendErrors: number;
  /** Would-blocks since creation. */
  readonly totalWouldBlocks: number;
  /** When the counters were read. */
  readonly capturedAt: CaptureTime;

  /**
   * A snapshot from counter values (for example `context.metricsSnapshot()`).
   *
   * @param data The counters, the gauge and the capture time.
   */
  constructor(data: ContextCountersSnapshot) {
    this.publicationsAdded = data.publicationsAdded;
    this.publicationsRemoved = data.publicationsRemoved;
    this.activePublications = data.activePublications;
    this.totalSendCalls = data.totalSendCalls;
    this.totalPacketsSent = data.totalPacketsSent;
    this.totalBytesSent = data.totalBytesSent;
    this.totalSendErrors = data.totalSendErrors;
    this.totalWouldBlocks = data.totalWouldBlocks;
    this.capturedAt = Object.freeze({ ...data.capturedAt });
    Object.freeze(this);
  }

  /**
   * Reads a context's counters now.
   *
   * @example
   * ```ts ignore
   * const snapshot = ContextMetricsSnapshot.capture(ctx);
   * ```
   *
   * @param source The context (anything with `metricsSnapshot()`).
   * @returns The snapshot.
   */
  static capture(source: { metricsSnapshot(): ContextCountersSnapshot }): ContextMetricsSnapshot {
    return new ContextMetricsSnapshot(source.metricsSnapshot());
  }

  /**
   * The change since an earlier snapshot (counters only; read gauges from the latest snapshot).
   *
   * @example
   * ```ts ignore
   * const delta = ContextMetricsSnapshot.capture(ctx).deltaSince(earlier);
   * ```
   *
   * @param previous The earlier snapshot.
   * @returns Counter deltas and per-second rates.
   * @throws {InvalidValueError} When `previous` was taken later, or a counter went backwards.
   */
  deltaSince(previous: ContextMetricsSnapshot): ContextMetricsDelta {
    const intervalSecs = interval(this.capturedAt, previous.capturedAt);
    const publicationsAdded = counterDelta(
      "publicationsAdded",
      this.publicationsAdded,
      previous.publicationsAdded,
    );
    const publicationsRemoved = counterDelta(
      "publicationsRemoved",
      this.publicationsRemoved,
      previous.publicationsRemoved,
    );
    const sendCalls = counterDelta("totalSendCalls", this.totalSendCalls, previous.totalSendCalls);
    const packetsSent = counterDelta(
      "totalPacketsSent",
      this.totalPacketsSent,
      previous.totalPacketsSent,
    );
    const bytesSent = counterDelta("totalBytesSent", this.totalBytesSent, previous.totalBytesSent);
    const sendErrors = counterDelta(
      "totalSendErrors",
      this.totalSendErrors,
      previous.totalSendErrors,
    );
    const wouldBlocks = counterDelta(
      "totalWouldBlocks",
      this.totalWouldBlocks,
      previous.totalWouldBlocks,
    );
    return Object.freeze({
      intervalSecs,
      publicationsAdded,
      publicationsRemoved,
      sendCalls,
      packetsSent,
      bytesSent,
      sendErrors,
      wouldBlocks,
      sendCallsPerSec: ratePerSec(sendCalls, intervalSecs),
      packetsPerSec: ratePerSec(packetsSent, intervalSecs),
      bytesPerSec: ratePerSec(bytesSent, intervalSecs),
      sendErrorsPerSec: ratePerSec(sendErrors, intervalSecs),
      wouldBlocksPerSec: ratePerSec(wouldBlocks, intervalSecs),
    });
  }
}

/** A snapshot type that can compute a delta against an earlier one of its kind. */
export interface DeltaSnapshot<S, D> {
  /** The change since `previous`. */
  deltaSince(previous: S): D;
}

/**
 * Keeps the previous snapshot of a publication or a context and gives the delta (with
 * per-second rates, on the monotonic clock) at each `sample()`; the first gives null.
 *
 * @example
 * ```ts
 * import { MetricsSampler } from "./metrics.ts";
 * let packets = 0;
 * let seconds = 0;
 * const source = {
 *   metricsSnapshot: () => ({
 *     publicationId: 1, sendCalls: packets, packetsSent: packets, bytesSent: packets * 100,
 *     sendErrors: 0, wouldBlocks: 0,
 *     capturedAt: { monotonicNs: BigInt(seconds * 1e9), wallClockMs: seconds * 1000 },
 *   }),
 * };
 * const sampler = MetricsSampler.forPublication(source);
 * sampler.sample(); // null
 * packets = 50;
 * seconds = 2;
 * sampler.sample()?.packetsPerSec; // 25
 * ```
 */
export class MetricsSampler<S extends DeltaSnapshot<S, D>, D> {
  readonly #capture: () => S;
  #previous: S | null = null;

  /**
   * A sampler over any snapshot source; see the `forPublication` and `forContext` factories.
   *
   * @param capture Takes one snapshot.
   */
  constructor(capture: () => S) {
    this.#capture = capture;
  }

  /**
   * A sampler of one publication.
   *
   * @example
   * ```ts ignore
   * const sampler = MetricsSampler.forPublication(publication);
   * ```
   *
   * @param source The publication.
   * @returns The sampler.
   */
  static forPublication(
    source: { metricsSnapshot(): PublicationCountersSnapshot },
  ): MetricsSampler<PublicationMetricsSnapshot, PublicationMetricsDelta> {
    return new MetricsSampler(() => PublicationMetricsSnapshot.capture(source));
  }

  /**
   * A sampler of a context.
   *
   * @example
   * ```ts ignore
   * const sampler = MetricsSampler.forContext(ctx);
   * ```
   *
   * @param source The context.
   * @returns The sampler.
   */
  static forContext(
    source: { metricsSnapshot(): ContextCountersSnapshot },
  ): MetricsSampler<ContextMetricsSnapshot, ContextMetricsDelta> {
    return new MetricsSampler(() => ContextMetricsSnapshot.capture(source));
  }

  /**
   * The previous snapshot, or null before the first sample or after a reset.
   *
   * @returns The snapshot.
   */
  get previous(): S | null {
    return this.#previous;
  }

  /**
   * Takes a snapshot now.
   *
   * @returns The snapshot (not remembered).
   */
  snapshot(): S {
    return this.#capture();
  }

  /**
   * Takes a snapshot and returns the delta since the previous one (null the first time).
   *
   * @returns The delta, or null.
   */
  sample(): D | null {
    return this.sampleSnapshot(this.#capture());
  }

  /**
   * Remembers `current` and returns the delta since the previous snapshot (null the first time).
   *
   * @param current A snapshot taken by the caller.
   * @returns The delta, or null.
   */
  sampleSnapshot(current: S): D | null {
    const previous = this.#previous;
    this.#previous = current;
    return previous === null ? null : current.deltaSince(previous);
  }

  /** Forgets the previous snapshot. */
  reset(): void {
    this.#previous = null;
  }
}

function interval(later: CaptureTime, earlier: CaptureTime): number {
  const ns = later.monotonicNs - earlier.monotonicNs;
  if (ns < 0n) {
    throw new InvalidValueError(
      "previous snapshot capture time",
      `${earlier.monotonicNs} ns`,
      `a monotonic time at or before ${later.monotonicNs} ns`,
    );
  }
  return Number(ns) / 1e9;
}

function counterDelta(name: string, later: number, earlier: number): number {
  if (later < earlier) {
    throw new InvalidValueError(
      `${name} of the previous snapshot`,
      earlier,
      `at most ${later}: a cumulative counter never goes backwards`,
    );
  }
  return later - earlier;
}

function ratePerSec(count: number, intervalSecs: number): number {
  return intervalSecs > 0 ? count / intervalSecs : 0;
}
