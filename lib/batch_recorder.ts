/**
 * The bridge between a {@linkcode Subscription} and {@linkcode ReceiverStats}: decodes each
 * received datagram as MCAS, counts foreign ones, and records the rest with the TTL, DSCP and
 * kernel arrival time the socket reported. This is `mcast-receive`'s counting, for scripts.
 *
 * @module
 */

import { realtimeNs as realtimeClockNs } from "../ffi/clock.ts";
import { createMcasHeader, decodeMcas, type McasHeader } from "./mcas.ts";
import type { Arrival, ReceiverStats } from "./receiver_stats.ts";
import { type ReceivedBatch, ReceivedMetadata } from "./subscription.ts";

/** Options of a {@linkcode BatchRecorder}. */
export interface BatchRecorderOptions {
  /**
   * Nanoseconds subtracted from every arrival time (kernel CLOCK_REALTIME timestamps) before it is
   * recorded, to put arrivals on another clock: with `realtime − monotonic` they land on
   * CLOCK_MONOTONIC, the clock MCAS senders stamp, so that a sender on the same host has a
   * one-way latency (`ReceiverStats` with `sharedClock`). 0 keeps CLOCK_REALTIME.
   *
   * @default {0n}
   */
  arrivalOffsetNs?: bigint;
}

/**
 * Records received batches into a {@linkcode ReceiverStats}. Reuses one header, one metadata and
 * one arrival object, so recording allocates nothing per datagram beyond the statistics' own
 * bigint arithmetic.
 *
 * @example Count what arrives for five seconds, as `mcast-receive --json` would
 * ```ts ignore
 * import { BatchRecorder, ReceiverStats, Subscription } from "../mod.ts";
 *
 * using sub = new Subscription("232.1.1.1", { source: "10.0.0.1", interface: "eth1" });
 * const stats = new ReceiverStats();
 * const recorder = new BatchRecorder(stats);
 * for await (const batch of sub.batches({ signal: AbortSignal.timeout(5000) })) {
 *   recorder.record(batch);
 * }
 * console.log(JSON.stringify(stats.summary()));
 * ```
 */
export class BatchRecorder {
  /** The statistics that receive the datagrams. */
  readonly stats: ReceiverStats;
  readonly #header: McasHeader = createMcasHeader();
  readonly #metadata = new ReceivedMetadata();
  readonly #arrivalOffsetNs: bigint;
  readonly #arrival: Arrival = {
    source: "",
    receivedTtl: null,
    receivedDscp: null,
    arrivalNs: 0n,
    bytes: 0,
  };

  /**
   * Constructs a new instance.
   *
   * @param stats Where the datagrams are counted.
   * @param options The clock the arrival times are recorded on.
   */
  constructor(stats: ReceiverStats, options: BatchRecorderOptions = {}) {
    this.stats = stats;
    this.#arrivalOffsetNs = options.arrivalOffsetNs ?? 0n;
  }

  /**
   * Records every datagram of a batch: MCAS ones with their arrival facts, others as foreign.
   * Where the kernel gave no receive timestamp, the real-time clock stands in.
   *
   * @param batch The batch just received.
   * @returns How many of its datagrams were MCAS.
   */
  record(batch: ReceivedBatch): number {
    const header = this.#header;
    const metadata = this.#metadata;
    const arrival = this.#arrival;
    const count = batch.length;
    let recorded = 0;
    for (let i = 0; i < count; i++) {
      const length = batch.datagramLength(i);
      if (decodeMcas(batch.payload(i), header) !== "ok") {
        this.stats.recordForeign(length);
        continue;
      }
      batch.metadata(i, metadata);
      arrival.source = batch.sourceAddress(i);
      arrival.receivedTtl = metadata.ttl >= 0 ? metadata.ttl : null;
      arrival.receivedDscp = metadata.tos >= 0 ? metadata.tos >> 2 : null;
      const realtimeNs = metadata.timestampNs >= 0n ? metadata.timestampNs : realtimeClockNs();
      arrival.arrivalNs = this.#arrivalOffsetNs === 0n
        ? realtimeNs
        : realtimeNs - this.#arrivalOffsetNs;
      arrival.bytes = length;
      this.stats.record(header, arrival);
      recorded++;
    }
    return recorded;
  }
}
