/**
 * What a publication counts (send calls, packets, bytes, errors, would-blocks) and when a copy of
 * the counts is taken: both clocks, the monotonic one for intervals and the wall clock for logs.
 * `metrics.ts` turns them into snapshots, deltas and rates.
 *
 * @module
 */

import { monotonicNs } from "./clock.ts";

/** Cumulative per-publication counters, incremented in the send paths (`metrics.ts` reads them). */
export interface PublicationCounters {
  /** Calls of `send`, `trySend`, `sendBatch` and `sendPrepared`. */
  sendCalls: number;
  /** Datagrams the kernel accepted. */
  packetsSent: number;
  /** Payload bytes the kernel accepted. */
  bytesSent: number;
  /** Sends that failed with an error other than would-block. */
  sendErrors: number;
  /** Sends (or batches) stopped because the socket buffer was full (EAGAIN). */
  wouldBlocks: number;
}

/** When a metrics snapshot was taken: monotonic clock for intervals, wall clock for logs. */
export interface CaptureTime {
  /** CLOCK_MONOTONIC in nanoseconds. */
  readonly monotonicNs: bigint;
  /** Wall clock, milliseconds since the Unix epoch. */
  readonly wallClockMs: number;
}

/** A copy of a publication's counters with the time it was taken. */
export interface PublicationCountersSnapshot extends Readonly<PublicationCounters> {
  /** The publication. */
  readonly publicationId: number;
  /** When the counters were read. */
  readonly capturedAt: CaptureTime;
}

/**
 * Captures the current time on both clocks.
 *
 * @example
 * ```ts ignore
 * import { captureTime } from "./send_counters.ts";
 * const now = captureTime();
 * now.monotonicNs > 0n; // true
 * ```
 *
 * @returns Monotonic nanoseconds and wall-clock milliseconds.
 */
export function captureTime(): CaptureTime {
  return { monotonicNs: monotonicNs(), wallClockMs: Date.now() };
}
