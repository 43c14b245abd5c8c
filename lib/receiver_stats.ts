/**
 * Per-sender statistics for received MCAS datagrams: the counting heart of `mcast-receive`.
 *
 * Pure: no sockets, no clocks, no timers. The caller feeds every decoded datagram to
 * {@linkcode ReceiverStats.prototype.record} together with the facts of its arrival (source
 * address, received TTL and DSCP, arrival time, length), every non-MCAS datagram to
 * {@linkcode ReceiverStats.prototype.recordForeign}, and the current time to
 * {@linkcode ReceiverStats.prototype.tick} now and then, so the status can turn STALLED.
 *
 * The counting rules are the ones in the contract, per sender id:
 *
 * - `packets`: MCAS datagrams received, duplicates included.
 * - `duplicates`: datagrams whose sequence number that sender id had already delivered.
 * - `reordered`: datagrams, not duplicates, with a sequence number below the highest one seen.
 * - `lost`: sequence numbers between the lowest and the highest seen that never arrived; a late
 *   arrival takes its number back out. Loss percent = lost / (lost + unique received).
 * - `restarts`: times a new sender id appears from a source address that already had one.
 * - `foreign`: datagrams that are not MCAS version 1.
 * - A stall is a stretch of the stall timeout or more without an MCAS datagram after the first
 *   one; `stalls` counts them and the gap log lists them.
 *
 * Memory is bounded whatever arrives: duplicates are detected in a sliding window of
 * {@linkcode ReceiverStatsOptions.dupWindow} sequence numbers below the highest; an arrival older
 * than the window is counted as a duplicate. A jump of more than
 * {@linkcode ReceiverStatsOptions.maxSequenceJump} in either direction starts a new epoch of that
 * sender instead of counting billions lost. The sender table holds at most
 * {@linkcode ReceiverStatsOptions.maxSenders} entries (the least recently active is evicted) and
 * the gap log keeps the last {@linkcode ReceiverStatsOptions.maxGaps} gaps. See `docs/receiver.md`.
 *
 * The `mcast-receive --json` shapes of these figures are built in `receiver_summary.ts`
 * ({@linkcode ReceiverStats.prototype.summary} delegates there).
 *
 * @module
 */

import {
  type ReceiverSummaryJson,
  type ReceiverTotals,
  summarizeReceiver,
} from "./receiver_summary.ts";
import {
  type ReceiverStatsOptions,
  resolveReceiverStatsOptions,
} from "./_receiver_stats_options.ts";
import type {
  Arrival,
  FastFields,
  McasFields,
  RecordVerdict,
  SenderSnapshot,
} from "./_sender_state.ts";
import { SenderTable } from "./_sender_table.ts";
import { type GapSnapshot, type ReceiverStatus, REL_LIMIT, StallLog } from "./_stall_log.ts";

// The largest sender clock the fast path takes (2^52 ns, 52 days of uptime): with an arrival
// within 2^51 of the base, every transit and every difference of two is exact as a number.
const SEND_LIMIT = 2 ** 52;

export type {
  Arrival,
  FastFields,
  GapSnapshot,
  McasFields,
  ReceiverStatsOptions,
  ReceiverStatus,
  ReceiverTotals,
  RecordVerdict,
  SenderSnapshot,
};
export type { LatencyMs } from "./_sender_state.ts";

/**
 * One datagram for {@linkcode ReceiverStats.prototype.recordFast}: the header's 64-bit fields
 * as numbers (the sender id as two 32-bit halves) and the arrival time as nanoseconds after the
 * statistics' time base ({@linkcode ReceiverStats.prototype.timeBaseNs}). A caller reuses one.
 */
export interface FastDatagram extends FastFields {
  /** Sender id, high 32 bits (0 to 2^32 − 1). */
  idHigh: number;
  /** Sender id, low 32 bits. */
  idLow: number;
  /** Sequence number, 0 to 2^53 − 1. */
  sequence: number;
  /** Sender clock, nanoseconds, 0 to 2^52. */
  sendNs: number;
  /** Arrival time minus the time base, nanoseconds, an integer from −2^51 to 2^51. */
  arrivalRel: number;
}

const SAFE_BASE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Per-sender counting for a receiver, with bounded memory whatever arrives.
 *
 * @example Count a short stream with one loss and one late arrival
 * ```ts
 * import { ReceiverStats } from "./receiver_stats.ts";
 *
 * const stats = new ReceiverStats({ stallTimeoutS: 3 });
 * const arrival = {
 *   source: "192.0.2.1",
 *   receivedTtl: 62,
 *   receivedDscp: 46,
 *   arrivalNs: 0n,
 *   bytes: 200,
 * };
 * for (const sequence of [0n, 1n, 3n, 4n, 2n]) {
 *   arrival.arrivalNs += 40_000_000n;
 *   stats.record(
 *     { senderId: 0xabcn, sequence, timestampNs: sequence * 40_000_000n, ttl: 64, dscp: 46 },
 *     arrival,
 *   );
 * }
 * const { totals, senders } = stats.summary();
 * totals.packets; // 5
 * totals.lost; // 0 (2 came back)
 * totals.reordered; // 1
 * senders[0].ttl.hops; // 2
 * senders[0].dscp.received; // "ef"
 * ```
 */
export class ReceiverStats {
  readonly #maxJump: bigint;
  readonly #sharedClock: boolean;
  readonly #epochOffsetNs: bigint;

  readonly #senders: SenderTable;
  readonly #stalls: StallLog;

  #packets = 0;
  #bytes = 0;
  #unique = 0;
  #lost = 0;
  #duplicates = 0;
  #reordered = 0;
  #foreign = 0;
  #foreignBytes = 0;
  #jumps = 0;
  #baseNs: bigint | null = null;
  #baseNumber = 0;
  #baseExact = false;
  readonly #maxJumpNumber: number;

  /**
   * Constructs a new instance.
   *
   * @param options Stall timeout, bounds and clock options.
   * @throws {InvalidValueError} When an option is out of range.
   */
  constructor(options: ReceiverStatsOptions = {}) {
    const o = resolveReceiverStatsOptions(options);
    this.#senders = new SenderTable(o.maxSenders, o.dupWindow);
    this.#stalls = new StallLog(o.stallNs, o.maxGaps);
    this.#maxJump = o.maxJump;
    this.#maxJumpNumber = Number(o.maxJump);
    this.#sharedClock = o.sharedClock;
    this.#epochOffsetNs = o.epochOffsetNs;
  }

  /**
   * Counts one MCAS datagram. Does not allocate objects in the steady state (only bigint
   * temporaries); a new sender id reuses the evicted entry once the table is full.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats();
   * const header = { senderId: 1n, sequence: 0n, timestampNs: 0n, ttl: 8, dscp: 0 };
   * const arrival = {
   *   source: "::1",
   *   receivedTtl: 8,
   *   receivedDscp: 0,
   *   arrivalNs: 1_000n,
   *   bytes: 32,
   * };
   * stats.record(header, arrival); // "first"
   * stats.record(header, arrival); // "duplicate"
   * ```
   *
   * @param header The decoded header fields.
   * @param arrival The facts of this arrival.
   * @returns What the datagram was counted as.
   */
  record(header: McasFields, arrival: Arrival): RecordVerdict {
    this.#stalls.arrival(arrival.arrivalNs);
    this.#packets++;
    this.#bytes += arrival.bytes;
    let sender = this.#senders.get(header.senderId);
    let verdict: RecordVerdict;
    if (sender === undefined) {
      sender = this.#senders.add(header.senderId, arrival.source);
      verdict = sender.start(header.sequence);
    } else {
      verdict = sender.count(header.sequence, this.#maxJump);
    }
    switch (verdict) {
      case "duplicate":
      case "stale":
        this.#duplicates++;
        break;
      case "late":
        this.#reordered++;
        this.#unique++;
        this.#lost += sender.lostDelta;
        break;
      case "jump":
        this.#jumps++;
        this.#unique++;
        break;
      default:
        this.#unique++;
        this.#lost += sender.lostDelta;
    }
    sender.arrive(header, arrival, verdict, this.#sharedClock);
    return verdict;
  }

  /**
   * The time base of {@linkcode ReceiverStats.prototype.recordFast}'s arrival times: fixed by
   * the first call (to `candidate`, best a recent arrival time), the same ever after.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats();
   * stats.timeBaseNs(5n); // 5n
   * stats.timeBaseNs(9n); // 5n
   * ```
   *
   * @param candidate The base to take when there is none yet, nanoseconds on the arrival clock.
   * @returns The base.
   */
  timeBaseNs(candidate: bigint): bigint {
    if (this.#baseNs === null) {
      this.#baseNs = candidate;
      this.#baseNumber = Number(candidate);
      this.#baseExact = candidate <= SAFE_BASE && candidate >= -SAFE_BASE;
    }
    return this.#baseNs;
  }

  /**
   * Counts one MCAS datagram given as numbers, without a bigint, when that gives exactly what
   * {@linkcode ReceiverStats.prototype.record} would — the common case: a known sender id whose
   * next sequence number arrives, no stall to close. Otherwise it changes nothing and returns
   * false, and the caller counts the datagram with `record` (its values as bigints). The batch
   * recorder's hot path. Call {@linkcode ReceiverStats.prototype.timeBaseNs} first.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats();
   * const arrival = { source: "10.0.0.1", receivedTtl: 64, receivedDscp: 0, arrivalNs: 100n, bytes: 32 };
   * stats.record({ senderId: 7n, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 0 }, arrival);
   * stats.timeBaseNs(100n);
   * const fast = {
   *   idHigh: 0, idLow: 7, sequence: 1, sendNs: 10, arrivalRel: 10,
   *   bytes: 32, ttl: 64, dscp: 0, receivedTtl: 64, receivedDscp: 0,
   * };
   * stats.recordFast(fast); // true
   * stats.recordFast({ ...fast, sequence: 1 }); // false (a duplicate: record() counts it)
   * stats.totals().packets; // 2
   * ```
   *
   * @param datagram The datagram.
   * @returns True when it was counted.
   */
  recordFast(datagram: FastDatagram): boolean {
    const baseNs = this.#baseNs;
    if (baseNs === null) return false;
    if (this.#sharedClock && !this.#baseExact) return false;
    const rel = datagram.arrivalRel;
    if (!(rel <= REL_LIMIT && rel >= -REL_LIMIT) || !(datagram.sendNs <= SEND_LIMIT)) {
      return false;
    }
    const sender = this.#senders.getByHalves(datagram.idHigh, datagram.idLow);
    if (sender === undefined) return false;
    const delta = sender.fastDelta(datagram.sequence, baseNs);
    if (!(delta >= 1 && delta <= this.#maxJumpNumber)) return false;
    if (!this.#stalls.canArriveFast(rel, baseNs)) return false;
    this.#stalls.arrivalFast(rel);
    this.#packets++;
    this.#bytes += datagram.bytes;
    sender.nextFast(
      datagram.sequence,
      delta,
      rel,
      datagram.sendNs,
      datagram,
      this.#sharedClock,
      this.#baseNumber,
    );
    this.#unique++;
    this.#lost += sender.lostDelta;
    return true;
  }

  /**
   * Counts one datagram on the group and port that is not MCAS version 1.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats();
   * stats.recordForeign(1316);
   * stats.totals().foreign; // 1
   * stats.status; // "WAITING" (foreign datagrams do not count as arrivals)
   * ```
   *
   * @param bytes The datagram length.
   */
  recordForeign(bytes: number): void {
    this.#foreign++;
    if (Number.isFinite(bytes) && bytes > 0) this.#foreignBytes += bytes;
  }

  /**
   * Tells the statistics what time it is (same clock as the arrival times), so that a silence of
   * the stall timeout turns the status STALLED, counts a stall and opens a gap. Call it on a timer
   * (the dashboard refresh will do).
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats({ stallTimeoutS: 1 });
   * const header = { senderId: 7n, sequence: 0n, timestampNs: 0n, ttl: 1, dscp: 0 };
   * const arrival = {
   *   source: "10.0.0.1",
   *   receivedTtl: 1,
   *   receivedDscp: 0,
   *   arrivalNs: 0n,
   *   bytes: 32,
   * };
   * stats.record(header, arrival);
   * stats.tick(500_000_000n); // "RECEIVING"
   * stats.tick(1_000_000_000n); // "STALLED"
   * ```
   *
   * @param nowNs The time now, nanoseconds, on the arrival times' clock.
   * @returns The status after the tick.
   */
  tick(nowNs: bigint): ReceiverStatus {
    return this.#stalls.tick(nowNs);
  }

  /**
   * The status now: WAITING until the first MCAS datagram, then RECEIVING, STALLED after a tick
   * that finds the stall timeout passed without one, RECEIVING again on the next.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * new ReceiverStats().status; // "WAITING"
   * ```
   *
   * @returns The status.
   */
  get status(): ReceiverStatus {
    return this.#stalls.status;
  }

  /**
   * Stalls so far, one in progress included (`totals().stalls`, without building the totals).
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * new ReceiverStats().stalls; // 0
   * ```
   *
   * @returns The count.
   */
  get stalls(): number {
    return this.#stalls.stalls;
  }

  /**
   * Number of sender ids in the table now.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * new ReceiverStats().senderCount; // 0
   * ```
   *
   * @returns The count.
   */
  get senderCount(): number {
    return this.#senders.size;
  }

  /**
   * The running totals, over every sender id ever seen (evicted ones included).
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const totals = new ReceiverStats().totals();
   * totals.packets; // 0
   * totals.lossPercent; // 0
   * ```
   *
   * @returns A fresh object.
   */
  totals(): ReceiverTotals {
    return {
      packets: this.#packets,
      bytes: this.#bytes,
      unique: this.#unique,
      lost: this.#lost,
      duplicates: this.#duplicates,
      reordered: this.#reordered,
      restarts: this.#senders.restarts,
      foreign: this.#foreign,
      foreignBytes: this.#foreignBytes,
      stalls: this.#stalls.stalls,
      jumps: this.#jumps,
      evictedSenders: this.#senders.evicted,
      lossPercent: lossPercent(this.#lost, this.#unique),
    };
  }

  /**
   * Snapshots of the senders in the table, in order of first appearance.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats();
   * const arrival = {
   *   source: "10.0.0.1",
   *   receivedTtl: 60,
   *   receivedDscp: 10,
   *   arrivalNs: 0n,
   *   bytes: 32,
   * };
   * stats.record({ senderId: 9n, sequence: 5n, timestampNs: 0n, ttl: 64, dscp: 46 }, arrival);
   * const [sender] = stats.senders();
   * sender.hops; // 4
   * sender.remarked; // true
   * ```
   *
   * @returns Fresh objects.
   */
  senders(): SenderSnapshot[] {
    const result: SenderSnapshot[] = [];
    for (const s of this.#senders.values()) result.push(s.snapshot(lossPercent(s.lost, s.unique)));
    return result;
  }

  /**
   * The gap log, oldest first: the last `maxGaps` silences of the stall timeout or more. A gap
   * still going on lasts until the latest time seen (arrival or tick).
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * new ReceiverStats().gaps(); // []
   * ```
   *
   * @returns Fresh objects.
   */
  gaps(): GapSnapshot[] {
    return this.#stalls.gaps();
  }

  /**
   * Nanoseconds added to an arrival time to get nanoseconds since the Unix epoch
   * ({@linkcode ReceiverStatsOptions.epochOffsetNs}), for turning gap times into dates.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * new ReceiverStats({ epochOffsetNs: 5n }).epochOffsetNs; // 5n
   * ```
   *
   * @returns The offset.
   */
  get epochOffsetNs(): bigint {
    return this.#epochOffsetNs;
  }

  /**
   * The `status`, `totals`, `senders` and `gaps` members of the `mcast-receive --json` summary,
   * exactly as the contract shapes them.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * const stats = new ReceiverStats();
   * const arrival = {
   *   source: "10.0.0.1",
   *   receivedTtl: null,
   *   receivedDscp: null,
   *   arrivalNs: 0n,
   *   bytes: 32,
   * };
   * stats.record(
   *   { senderId: 0xffn, sequence: 2n ** 64n - 1n, timestampNs: 0n, ttl: 64, dscp: 34 },
   *   arrival,
   * );
   * const [sender] = stats.summary().senders;
   * sender.sender_id; // "00000000000000ff"
   * sender.last_seq; // "18446744073709551615" (above 2^53 − 1, so a string)
   * sender.dscp.original; // "af41"
   * ```
   *
   * @returns A fresh object, ready for `JSON.stringify`.
   */
  summary(): ReceiverSummaryJson {
    return summarizeReceiver(this);
  }

  /**
   * Same as {@linkcode ReceiverStats.prototype.summary}, so `JSON.stringify(stats)` works.
   *
   * @example
   * ```ts
   * import { ReceiverStats } from "./receiver_stats.ts";
   * JSON.parse(JSON.stringify(new ReceiverStats())).status; // "WAITING"
   * ```
   *
   * @returns The summary.
   */
  toJSON(): ReceiverSummaryJson {
    return this.summary();
  }
}

/**
 * Loss percent by the contract's rule: lost / (lost + unique received) × 100, and 0 when nothing
 * was expected (nothing lost, nothing received).
 *
 * @example
 * ```ts
 * import { lossPercent } from "./receiver_stats.ts";
 * lossPercent(1, 99); // 1
 * lossPercent(0, 0); // 0
 * ```
 *
 * @param lost Sequence numbers that never arrived.
 * @param unique Distinct sequence numbers delivered (packets minus duplicates).
 * @returns The percentage, 0 to 100.
 */
export function lossPercent(lost: number, unique: number): number {
  const expected = lost + unique;
  return expected <= 0 ? 0 : (lost / expected) * 100;
}
