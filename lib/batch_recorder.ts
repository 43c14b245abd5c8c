/**
 * The bridge between a {@linkcode Subscription} and {@linkcode ReceiverStats}: decodes each
 * received datagram as MCAS, counts foreign ones, and records the rest with the TTL, DSCP and
 * kernel arrival time the socket reported. This is `mcast-receive`'s counting, for scripts.
 *
 * @module
 */

import { realtimeNs as realtimeClockNs } from "../ffi/clock.ts";
import {
  createMcasHeader,
  decodeMcas,
  MCAS_HEADER_SIZE,
  MCAS_VERSION,
  type McasHeader,
} from "./mcas.ts";
import type { Arrival, FastDatagram, ReceiverStats } from "./receiver_stats.ts";
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
 * one arrival object, and counts the common datagram — a known sender's next sequence number,
 * below 2^53, sent less than 2^52 ns into its clock — without any bigint
 * ({@linkcode ReceiverStats.prototype.recordFast}: the 64-bit fields read as 32-bit halves, the
 * kernel time as seconds and nanoseconds from a fixed base); every other datagram takes
 * {@linkcode decodeMcas} and {@linkcode ReceiverStats.prototype.record}, with the same result.
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
  readonly #fast: FastDatagram = {
    idHigh: 0,
    idLow: 0,
    sequence: 0,
    sendNs: 0,
    arrivalRel: 0,
    bytes: 0,
    ttl: 0,
    dscp: 0,
    receivedTtl: null,
    receivedDscp: null,
  };
  // The time base of the statistics plus the arrival offset, as whole seconds and the
  // nanoseconds left (0 to 999999999): arrivalRel = (s − baseSeconds) × 1e9 + (ns − baseNanos).
  #haveBase = false;
  #baseSeconds = 0;
  #baseNanos = 0;

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
    const fast = this.#fast;
    const stats = this.stats;
    const count = batch.length;
    // The MCAS header is read in place from the payload storage: no view per datagram.
    const p = batch.payloadStorage;
    const room = batch.maxDatagramSize;
    let recorded = 0;
    for (let i = 0; i < count; i++) {
      const length = batch.datagramLength(i);
      const at = batch.payloadOffset(i);
      // decodeMcas's checks: 32 bytes, the magic, version 1.
      if (
        Math.min(length, room) < MCAS_HEADER_SIZE || p[at] !== 0x4d || p[at + 1] !== 0x43 ||
        p[at + 2] !== 0x41 || p[at + 3] !== 0x53 || p[at + 4] !== MCAS_VERSION
      ) {
        stats.recordForeign(length);
        continue;
      }
      batch.metadata(i, metadata);
      recorded++;
      const sequenceHigh = u32(p, at + 8);
      const sendHigh = u32(p, at + 16);
      const kernelTime = metadata.hasTimestamp && metadata.timestampSeconds >= 0;
      if (kernelTime && sequenceHigh < 0x20_0000 && sendHigh <= 0x10_0000) {
        if (!this.#haveBase) this.#takeBase(metadata);
        fast.arrivalRel = (metadata.timestampSeconds - this.#baseSeconds) * 1e9 +
          (metadata.timestampNanos - this.#baseNanos);
        fast.idHigh = u32(p, at + 24);
        fast.idLow = u32(p, at + 28);
        fast.sequence = sequenceHigh * 0x1_0000_0000 + u32(p, at + 12);
        fast.sendNs = sendHigh * 0x1_0000_0000 + u32(p, at + 20);
        fast.bytes = length;
        fast.ttl = p[at + 6];
        fast.dscp = p[at + 7];
        fast.receivedTtl = metadata.ttl >= 0 ? metadata.ttl : null;
        fast.receivedDscp = metadata.tos >= 0 ? metadata.tos >> 2 : null;
        // Exact: |s − base| × 1e9 below 2^53 or else far above 2^51, which recordFast refuses.
        if (stats.recordFast(fast)) continue;
      }
      decodeMcas(batch.payload(i), header);
      this.#recordSlow(batch, i, length, header, metadata, kernelTime);
    }
    return recorded;
  }

  #recordSlow(
    batch: ReceivedBatch,
    index: number,
    length: number,
    header: McasHeader,
    metadata: ReceivedMetadata,
    kernelTime: boolean,
  ): void {
    const arrival = this.#arrival;
    arrival.source = batch.sourceAddress(index);
    arrival.receivedTtl = metadata.ttl >= 0 ? metadata.ttl : null;
    arrival.receivedDscp = metadata.tos >= 0 ? metadata.tos >> 2 : null;
    const realtimeNs = kernelTime ? metadata.timestampNs : realtimeClockNs();
    arrival.arrivalNs = this.#arrivalOffsetNs === 0n
      ? realtimeNs
      : realtimeNs - this.#arrivalOffsetNs;
    arrival.bytes = length;
    this.stats.record(header, arrival);
  }

  // The statistics' time base (fixed by the first recorder that asks), plus this recorder's
  // offset, split into seconds and nanoseconds so that arrival times are differences of numbers.
  #takeBase(metadata: ReceivedMetadata): void {
    const base = this.stats.timeBaseNs(metadata.timestampNs - this.#arrivalOffsetNs) +
      this.#arrivalOffsetNs;
    let nanos = base % NS_PER_S;
    if (nanos < 0n) nanos += NS_PER_S;
    this.#baseSeconds = Number((base - nanos) / NS_PER_S);
    this.#baseNanos = Number(nanos);
    this.#haveBase = true;
  }
}

const NS_PER_S = 1_000_000_000n;

// A big-endian unsigned 32-bit field of a datagram.
function u32(p: Uint8Array, at: number): number {
  return ((p[at] << 24) | (p[at + 1] << 16) | (p[at + 2] << 8) | p[at + 3]) >>> 0;
}
