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
 * @module
 */

import { dscpName } from "./dscp.ts";
import { InvalidValueError } from "./errors.ts";
import { formatSenderId } from "./mcas.ts";

/**
 * The decoded MCAS header fields that the statistics use; `McasHeader` from `./mcas.ts` fits.
 */
export interface McasFields {
  /** Sender id, random per sender invocation. */
  senderId: bigint;
  /** Sequence number, 0 for the first packet of an invocation. */
  sequence: bigint;
  /** Sender clock when the datagram was sent, nanoseconds. */
  timestampNs: bigint;
  /** The TTL / hop limit the sender set. */
  ttl: number;
  /** The DSCP the sender set. */
  dscp: number;
}

/**
 * The facts of one arrival. The hot path can keep one object and overwrite its fields for every
 * datagram: {@linkcode ReceiverStats.prototype.record} copies what it keeps.
 */
export interface Arrival {
  /** Source address of the datagram, as text. */
  source: string;
  /** TTL / hop limit on arrival (IP_RECVTTL / IPV6_RECVHOPLIMIT), or null when unknown. */
  receivedTtl: number | null;
  /** DSCP on arrival (from IP_RECVTOS / IPV6_RECVTCLASS), or null when unknown. */
  receivedDscp: number | null;
  /**
   * Arrival time in nanoseconds: the kernel timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME) when there
   * is one. Any clock will do as long as {@linkcode ReceiverStats.prototype.tick} is given the
   * same one; see {@linkcode ReceiverStatsOptions.epochOffsetNs} for how it becomes wall time.
   */
  arrivalNs: bigint;
  /** UDP payload length in bytes. */
  bytes: number;
}

/** WAITING (no MCAS datagram yet), RECEIVING, or STALLED (silent for the stall timeout). */
export type ReceiverStatus = "WAITING" | "RECEIVING" | "STALLED";

/**
 * What {@linkcode ReceiverStats.prototype.record} made of a datagram:
 *
 * - `"first"`: the first datagram of a sender id (a new table entry);
 * - `"next"`: above the highest sequence seen (numbers skipped in between count as lost);
 * - `"late"`: below the highest, not seen before: reordered (and taken out of lost);
 * - `"duplicate"`: already delivered;
 * - `"stale"`: older than the duplicate window, counted as a duplicate;
 * - `"jump"`: more than `maxSequenceJump` away from the highest: a new epoch of the sender.
 */
export type RecordVerdict = "first" | "next" | "late" | "duplicate" | "stale" | "jump";

/** Options for {@linkcode ReceiverStats}. */
export interface ReceiverStatsOptions {
  /**
   * Seconds without an MCAS datagram, after the first, before the status turns STALLED and a
   * stall is counted.
   *
   * @default {3}
   */
  stallTimeoutS?: number;
  /**
   * Most sender ids kept; when a new one arrives at a full table, the least recently active is
   * evicted (its packets stay in the totals) and counted in `evictedSenders`.
   *
   * @default {1024}
   */
  maxSenders?: number;
  /**
   * Size of the duplicate-detection window per sender, in sequence numbers below the highest
   * seen: a power of two from 64 to 2^20. Costs `dupWindow / 8` bytes per sender.
   *
   * @default {65536}
   */
  dupWindow?: number;
  /** Most gaps kept in the gap log (the newest ones); `stalls` counts them all. @default {100} */
  maxGaps?: number;
  /**
   * A sequence number more than this far above or below the highest one seen starts a new epoch
   * of the sender (counted in `jumps`) rather than counting the skipped numbers as lost. At least
   * `dupWindow`, at most 2^52.
   *
   * @default {16777216}
   */
  maxSequenceJump?: number;
  /**
   * Whether the sender timestamps and the arrival times come from the same clock (sender and
   * receiver on one host, or clocks synchronised and both CLOCK_REALTIME), so that arrival minus
   * timestamp is the one-way latency.
   *
   * @default {false}
   */
  sharedClock?: boolean;
  /**
   * Nanoseconds to add to an arrival time to get nanoseconds since the Unix epoch, used to write
   * the gap log's `started_at`. 0 for CLOCK_REALTIME timestamps.
   *
   * @default {0n}
   */
  epochOffsetNs?: bigint;
}

/** Running totals over every sender id, evicted ones included. */
export interface ReceiverTotals {
  /** MCAS datagrams, duplicates included. */
  packets: number;
  /** Bytes of MCAS datagrams. */
  bytes: number;
  /** Distinct sequence numbers delivered. */
  unique: number;
  /** Sequence numbers that never arrived. */
  lost: number;
  /** Datagrams already delivered (and stale ones, older than the window). */
  duplicates: number;
  /** Datagrams below the highest sequence seen, not duplicates. */
  reordered: number;
  /** New sender ids from a source address that already had one. */
  restarts: number;
  /** Datagrams that are not MCAS version 1. */
  foreign: number;
  /** Bytes of foreign datagrams. */
  foreignBytes: number;
  /** Stalls, including one in progress. */
  stalls: number;
  /** New epochs started by absurd sequence jumps. */
  jumps: number;
  /** Sender ids evicted from the full table. */
  evictedSenders: number;
  /** Loss percent: lost / (lost + unique) × 100, 0 when nothing was expected. */
  lossPercent: number;
}

/** One-way latency figures, in milliseconds. */
export interface LatencyMs {
  /** Smallest. */
  min: number;
  /** Mean. */
  avg: number;
  /** Largest. */
  max: number;
}

/** A snapshot of one sender id. */
export interface SenderSnapshot {
  /** Sender id. */
  senderId: bigint;
  /** Source address of its first datagram. */
  source: string;
  /** Datagrams, duplicates included. */
  packets: number;
  /** Bytes. */
  bytes: number;
  /** Distinct sequence numbers delivered. */
  unique: number;
  /** Sequence numbers that never arrived. */
  lost: number;
  /** Duplicates (stale ones included). */
  duplicates: number;
  /** Reordered datagrams. */
  reordered: number;
  /** New epochs started by absurd jumps. */
  jumps: number;
  /** Lowest sequence number seen in the current epoch (normally the first that arrived). */
  firstSeq: bigint;
  /** Highest sequence number seen in the current epoch. */
  lastSeq: bigint;
  /** TTL / hop limit of the latest arrival, or null when unknown. */
  receivedTtl: number | null;
  /** TTL / hop limit the sender set. */
  originalTtl: number;
  /** Original minus received TTL, or null when the received TTL is unknown. */
  hops: number | null;
  /** DSCP of the latest arrival, or null when unknown. */
  receivedDscp: number | null;
  /** DSCP the sender set. */
  originalDscp: number;
  /** Whether the received DSCP differs from the original; null when it is unknown. */
  remarked: boolean | null;
  /** RFC 3550 interarrival jitter, milliseconds. */
  jitterMs: number;
  /** One-way latency, when {@linkcode ReceiverStatsOptions.sharedClock} is set and known. */
  latencyMs: LatencyMs | null;
  /** Loss percent of this sender. */
  lossPercent: number;
  /** Arrival time of its latest datagram, nanoseconds. */
  lastArrivalNs: bigint;
}

/** One entry of the gap log. */
export interface GapSnapshot {
  /** When the silence began (the arrival time of the last datagram before it), nanoseconds. */
  startedNs: bigint;
  /** How long it lasted, or has lasted so far when `ongoing`, in nanoseconds. */
  durationNs: bigint;
  /** Whether the silence is still going on. */
  ongoing: boolean;
}

/** A u64 in JSON: a number when it is at most 2^53 − 1, else its decimal digits as a string. */
export type JsonU64 = number | string;

/** A DSCP in JSON: its name where one exists (`"ef"`, `"af41"`, `"be"`), else the number. */
export type JsonDscp = string | number;

/** `totals` of the `mcast-receive --json` summary. */
export interface TotalsJson {
  /** MCAS datagrams, duplicates included. */
  packets: number;
  /** Bytes of MCAS datagrams. */
  bytes: number;
  /** Sequence numbers lost. */
  lost: number;
  /** Duplicates. */
  duplicates: number;
  /** Reordered. */
  reordered: number;
  /** Sender restarts. */
  restarts: number;
  /** Foreign datagrams. */
  foreign: number;
  /** Stalls. */
  stalls: number;
}

/** One element of `senders` in the `mcast-receive --json` summary. */
export interface SenderJson {
  /** 16 hex digits. */
  sender_id: string;
  /** Source address. */
  source: string;
  /** Datagrams, duplicates included. */
  packets: number;
  /** Sequence numbers lost. */
  lost: number;
  /** Duplicates. */
  duplicates: number;
  /** Reordered. */
  reordered: number;
  /** Lowest sequence number seen (see {@linkcode JsonU64}). */
  first_seq: JsonU64;
  /** Highest sequence number seen (see {@linkcode JsonU64}). */
  last_seq: JsonU64;
  /** TTL on arrival, as set by the sender, and the difference. */
  ttl: { received: number | null; original: number; hops: number | null };
  /** DSCP on arrival, as set by the sender, and whether they differ. */
  dscp: { received: JsonDscp | null; original: JsonDscp; remarked: boolean | null };
  /** RFC 3550 interarrival jitter, milliseconds, rounded to microseconds. */
  jitter_ms: number;
}

/** One element of `gaps` in the `mcast-receive --json` summary. */
export interface GapJson {
  /** ISO-8601 UTC time the silence began, or null when it is outside the Date range. */
  started_at: string | null;
  /** Seconds it lasted (so far, if still going on), rounded to milliseconds. */
  duration_s: number;
}

/** The part of the `mcast-receive --json` summary that the statistics produce. */
export interface ReceiverSummaryJson {
  /** Status now. */
  status: ReceiverStatus;
  /** Totals. */
  totals: TotalsJson;
  /** Senders in the table, in order of first appearance. */
  senders: SenderJson[];
  /** The gap log, oldest first. */
  gaps: GapJson[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NS_PER_S = 1_000_000_000;

class SenderState {
  senderId = 0n;
  source = "";
  packets = 0;
  bytes = 0;
  unique = 0;
  lost = 0;
  duplicates = 0;
  reordered = 0;
  jumps = 0;
  firstSeq = 0n;
  highSeq = 0n;
  /** Index of `highSeq` in the window ring. */
  highPos = 0;
  originalTtl = 0;
  receivedTtl: number | null = null;
  originalDscp = 0;
  receivedDscp: number | null = null;
  /** Jitter estimate, nanoseconds. */
  jitterNs = 0;
  prevTransit = 0n;
  hasTransit = false;
  latencyMinNs = 0;
  latencyMaxNs = 0;
  latencySumNs = 0;
  latencyCount = 0;
  lastArrivalNs = 0n;
  /** Bit i set: the sequence number at ring position i was delivered. */
  readonly window: Uint32Array;

  constructor(windowBits: number) {
    this.window = new Uint32Array(windowBits >>> 5);
  }

  reset(senderId: bigint, source: string): void {
    this.senderId = senderId;
    this.source = source;
    this.packets = 0;
    this.bytes = 0;
    this.unique = 0;
    this.lost = 0;
    this.duplicates = 0;
    this.reordered = 0;
    this.jumps = 0;
    this.firstSeq = 0n;
    this.highSeq = 0n;
    this.highPos = 0;
    this.receivedTtl = null;
    this.receivedDscp = null;
    this.jitterNs = 0;
    this.prevTransit = 0n;
    this.hasTransit = false;
    this.latencyMinNs = 0;
    this.latencyMaxNs = 0;
    this.latencySumNs = 0;
    this.latencyCount = 0;
    this.lastArrivalNs = 0n;
    this.window.fill(0);
  }
}

interface Gap {
  startedNs: bigint;
  /** -1n while the gap is still going on. */
  durationNs: bigint;
}

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
  readonly #stallNs: bigint;
  readonly #maxSenders: number;
  readonly #windowBits: number;
  readonly #windowMask: number;
  readonly #maxGaps: number;
  readonly #maxJump: bigint;
  readonly #sharedClock: boolean;
  readonly #epochOffsetNs: bigint;

  readonly #senders = new Map<bigint, SenderState>();
  /** Source address → number of sender ids seen from it, in order of last new sender id. */
  readonly #sources = new Map<string, number>();
  readonly #gaps: Gap[] = [];

  #status: ReceiverStatus = "WAITING";
  #lastMcasNs = 0n;
  #clockNs = 0n;
  #openGap: Gap | null = null;

  #packets = 0;
  #bytes = 0;
  #unique = 0;
  #lost = 0;
  #duplicates = 0;
  #reordered = 0;
  #restarts = 0;
  #foreign = 0;
  #foreignBytes = 0;
  #stalls = 0;
  #jumps = 0;
  #evicted = 0;

  /**
   * Constructs a new instance.
   *
   * @param options Stall timeout, bounds and clock options.
   * @throws {InvalidValueError} When an option is out of range.
   */
  constructor(options: ReceiverStatsOptions = {}) {
    const {
      stallTimeoutS = 3,
      maxSenders = 1024,
      dupWindow = 65536,
      maxGaps = 100,
      maxSequenceJump = 16_777_216,
      sharedClock = false,
      epochOffsetNs = 0n,
    } = options;
    if (typeof stallTimeoutS !== "number" || !(stallTimeoutS > 0) || stallTimeoutS > 1e9) {
      throw new InvalidValueError("stall timeout", stallTimeoutS, "a number of seconds above 0");
    }
    if (!Number.isInteger(maxSenders) || maxSenders < 1 || maxSenders > 1_048_576) {
      throw new InvalidValueError("max senders", maxSenders, "an integer from 1 to 1048576");
    }
    if (
      !Number.isInteger(dupWindow) || dupWindow < 64 || dupWindow > 1_048_576 ||
      (dupWindow & (dupWindow - 1)) !== 0
    ) {
      throw new InvalidValueError("dup window", dupWindow, "a power of two from 64 to 1048576");
    }
    if (!Number.isInteger(maxGaps) || maxGaps < 0 || maxGaps > 1_000_000) {
      throw new InvalidValueError("max gaps", maxGaps, "an integer from 0 to 1000000");
    }
    if (
      !Number.isInteger(maxSequenceJump) || maxSequenceJump < dupWindow ||
      maxSequenceJump > 2 ** 52
    ) {
      throw new InvalidValueError(
        "max sequence jump",
        maxSequenceJump,
        `an integer from the dup window (${dupWindow}) to 2^52`,
      );
    }
    if (typeof epochOffsetNs !== "bigint") {
      throw new InvalidValueError("epoch offset", epochOffsetNs, "a bigint of nanoseconds");
    }
    this.#stallNs = BigInt(Math.max(1, Math.round(stallTimeoutS * NS_PER_S)));
    this.#maxSenders = maxSenders;
    this.#windowBits = dupWindow;
    this.#windowMask = dupWindow - 1;
    this.#maxGaps = maxGaps;
    this.#maxJump = BigInt(maxSequenceJump);
    this.#sharedClock = sharedClock === true;
    this.#epochOffsetNs = epochOffsetNs;
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
    const now = arrival.arrivalNs;
    this.#markMcas(now);
    const bytes = arrival.bytes;
    this.#packets++;
    this.#bytes += bytes;

    let sender = this.#senders.get(header.senderId);
    const sequence = header.sequence;
    let verdict: RecordVerdict;
    if (sender === undefined) {
      sender = this.#newSender(header.senderId, arrival.source);
      sender.firstSeq = sequence;
      sender.highSeq = sequence;
      sender.highPos = 0;
      this.#setBit(sender, 0);
      sender.unique = 1;
      this.#unique++;
      verdict = "first";
    } else {
      verdict = this.#count(sender, sequence);
    }

    sender.packets++;
    sender.bytes += bytes;
    sender.lastArrivalNs = now;
    sender.originalTtl = header.ttl;
    sender.originalDscp = header.dscp;
    sender.receivedTtl = arrival.receivedTtl;
    sender.receivedDscp = arrival.receivedDscp;

    if (verdict !== "duplicate" && verdict !== "stale") {
      const transit = now - header.timestampNs;
      if (sender.hasTransit) {
        // RFC 3550 §6.4.1: D = (Rj − Ri) − (Sj − Si) = transit j − transit i; J += (|D| − J) / 16.
        const d = Math.abs(Number(transit - sender.prevTransit));
        sender.jitterNs += (d - sender.jitterNs) / 16;
      }
      sender.prevTransit = transit;
      sender.hasTransit = true;
      if (this.#sharedClock) {
        const latency = Number(transit);
        if (sender.latencyCount === 0 || latency < sender.latencyMinNs) {
          sender.latencyMinNs = latency;
        }
        if (sender.latencyCount === 0 || latency > sender.latencyMaxNs) {
          sender.latencyMaxNs = latency;
        }
        sender.latencySumNs += latency;
        sender.latencyCount++;
      }
    }
    return verdict;
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
    if (nowNs > this.#clockNs) this.#clockNs = nowNs;
    if (this.#status === "RECEIVING" && nowNs - this.#lastMcasNs >= this.#stallNs) {
      this.#status = "STALLED";
      this.#stalls++;
      this.#openGap = { startedNs: this.#lastMcasNs, durationNs: -1n };
      this.#pushGap(this.#openGap);
    }
    return this.#status;
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
    return this.#status;
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
      restarts: this.#restarts,
      foreign: this.#foreign,
      foreignBytes: this.#foreignBytes,
      stalls: this.#stalls,
      jumps: this.#jumps,
      evictedSenders: this.#evicted,
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
    for (const s of this.#senders.values()) {
      const hops = s.receivedTtl === null ? null : s.originalTtl - s.receivedTtl;
      result.push({
        senderId: s.senderId,
        source: s.source,
        packets: s.packets,
        bytes: s.bytes,
        unique: s.unique,
        lost: s.lost,
        duplicates: s.duplicates,
        reordered: s.reordered,
        jumps: s.jumps,
        firstSeq: s.firstSeq,
        lastSeq: s.highSeq,
        receivedTtl: s.receivedTtl,
        originalTtl: s.originalTtl,
        hops,
        receivedDscp: s.receivedDscp,
        originalDscp: s.originalDscp,
        remarked: s.receivedDscp === null ? null : s.receivedDscp !== s.originalDscp,
        jitterMs: s.jitterNs / 1e6,
        latencyMs: s.latencyCount === 0 ? null : {
          min: s.latencyMinNs / 1e6,
          avg: s.latencySumNs / s.latencyCount / 1e6,
          max: s.latencyMaxNs / 1e6,
        },
        lossPercent: lossPercent(s.lost, s.unique),
        lastArrivalNs: s.lastArrivalNs,
      });
    }
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
    return this.#gaps.map((gap) => {
      const ongoing = gap.durationNs < 0n;
      return {
        startedNs: gap.startedNs,
        durationNs: ongoing ? this.#clockNs - gap.startedNs : gap.durationNs,
        ongoing,
      };
    });
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
    return {
      status: this.#status,
      totals: {
        packets: this.#packets,
        bytes: this.#bytes,
        lost: this.#lost,
        duplicates: this.#duplicates,
        reordered: this.#reordered,
        restarts: this.#restarts,
        foreign: this.#foreign,
        stalls: this.#stalls,
      },
      senders: this.senders().map((s) => ({
        sender_id: formatSenderId(BigInt.asUintN(64, s.senderId)),
        source: s.source,
        packets: s.packets,
        lost: s.lost,
        duplicates: s.duplicates,
        reordered: s.reordered,
        first_seq: jsonU64(s.firstSeq),
        last_seq: jsonU64(s.lastSeq),
        ttl: { received: s.receivedTtl, original: s.originalTtl, hops: s.hops },
        dscp: {
          received: s.receivedDscp === null ? null : jsonDscp(s.receivedDscp),
          original: jsonDscp(s.originalDscp),
          remarked: s.remarked,
        },
        jitter_ms: round(s.jitterMs, 3),
      })),
      gaps: this.gaps().map((gap) => ({
        started_at: isoTime(gap.startedNs + this.#epochOffsetNs),
        duration_s: round(Number(gap.durationNs) / NS_PER_S, 3),
      })),
    };
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

  #markMcas(now: bigint): void {
    if (this.#status === "WAITING") {
      this.#status = "RECEIVING";
      this.#lastMcasNs = now;
    } else if (now > this.#lastMcasNs) {
      const silence = now - this.#lastMcasNs;
      const open = this.#openGap;
      if (open !== null) {
        open.durationNs = silence;
        this.#openGap = null;
      } else if (silence >= this.#stallNs) {
        // No tick saw it coming: the silence still counts as a stall.
        this.#stalls++;
        this.#pushGap({ startedNs: this.#lastMcasNs, durationNs: silence });
      }
      this.#lastMcasNs = now;
    } else if (this.#openGap !== null) {
      // The clock went backwards across a stall: close the gap as it stood.
      this.#openGap.durationNs = this.#clockNs - this.#openGap.startedNs;
      this.#openGap = null;
    }
    this.#status = "RECEIVING";
    if (now > this.#clockNs) this.#clockNs = now;
  }

  #pushGap(gap: Gap): void {
    this.#gaps.push(gap);
    if (this.#gaps.length > this.#maxGaps) this.#gaps.shift();
  }

  #newSender(senderId: bigint, source: string): SenderState {
    const seen = this.#sources.get(source);
    if (seen !== undefined) {
      this.#restarts++;
      this.#sources.delete(source);
    } else if (this.#sources.size >= this.#maxSenders) {
      // Forget the source whose last new sender id is oldest (Map keeps insertion order).
      const oldest = this.#sources.keys().next();
      if (!oldest.done) this.#sources.delete(oldest.value);
    }
    this.#sources.set(source, (seen ?? 0) + 1);

    let state: SenderState | undefined;
    if (this.#senders.size >= this.#maxSenders) {
      let oldestKey: bigint | undefined;
      let oldestState: SenderState | undefined;
      for (const [key, candidate] of this.#senders) {
        if (oldestState === undefined || candidate.lastArrivalNs < oldestState.lastArrivalNs) {
          oldestKey = key;
          oldestState = candidate;
        }
      }
      if (oldestKey !== undefined) {
        this.#senders.delete(oldestKey);
        this.#evicted++;
        state = oldestState;
      }
    }
    state ??= new SenderState(this.#windowBits);
    state.reset(senderId, source);
    this.#senders.set(senderId, state);
    return state;
  }

  #count(s: SenderState, sequence: bigint): RecordVerdict {
    const delta = sequence - s.highSeq;
    if (delta > this.#maxJump || delta < -this.#maxJump) {
      // An absurd jump: a new epoch of this sender, not billions lost or stale.
      s.jumps++;
      this.#jumps++;
      s.firstSeq = sequence;
      s.highSeq = sequence;
      s.highPos = 0;
      s.window.fill(0);
      this.#setBit(s, 0);
      s.unique++;
      this.#unique++;
      return "jump";
    }
    const d = Number(delta);
    if (d > 0) {
      const skipped = d - 1;
      s.lost += skipped;
      this.#lost += skipped;
      this.#advance(s, d);
      s.highSeq = sequence;
      this.#setBit(s, s.highPos);
      s.unique++;
      this.#unique++;
      return "next";
    }
    if (-d > this.#windowMask) {
      // Older than the window: cannot tell late from duplicate; count it as a duplicate so that
      // `lost` never goes below the truth of what the window could see.
      s.duplicates++;
      this.#duplicates++;
      return "stale";
    }
    const pos = (s.highPos + d) & this.#windowMask;
    if ((s.window[pos >>> 5] & (1 << (pos & 31))) !== 0) {
      s.duplicates++;
      this.#duplicates++;
      return "duplicate";
    }
    this.#setBit(s, pos);
    s.unique++;
    this.#unique++;
    s.reordered++;
    this.#reordered++;
    if (sequence >= s.firstSeq) {
      s.lost--;
      this.#lost--;
    } else {
      // Below the lowest seen: the numbers in between are now between first and highest.
      const between = Number(s.firstSeq - sequence) - 1;
      s.lost += between;
      this.#lost += between;
      s.firstSeq = sequence;
    }
    return "late";
  }

  /** Moves the window's top forward by `d` (> 0), clearing the positions it enters. */
  #advance(s: SenderState, d: number): void {
    const window = s.window;
    if (d > this.#windowMask) {
      window.fill(0);
      s.highPos = (s.highPos + d) & this.#windowMask;
      return;
    }
    let pos = (s.highPos + 1) & this.#windowMask;
    let left = d;
    while (left > 0) {
      const bit = pos & 31;
      const word = pos >>> 5;
      if (bit === 0 && left >= 32) {
        window[word] = 0;
        pos = (pos + 32) & this.#windowMask;
        left -= 32;
      } else {
        window[word] &= ~(1 << bit);
        pos = (pos + 1) & this.#windowMask;
        left--;
      }
    }
    s.highPos = (s.highPos + d) & this.#windowMask;
  }

  #setBit(s: SenderState, pos: number): void {
    s.window[pos >>> 5] |= 1 << (pos & 31);
  }
}

function lossPercent(lost: number, unique: number): number {
  const expected = lost + unique;
  return expected === 0 ? 0 : (lost / expected) * 100;
}

function jsonU64(value: bigint): JsonU64 {
  return value >= 0n && value <= MAX_SAFE ? Number(value) : value.toString();
}

function jsonDscp(value: number): JsonDscp {
  return Number.isInteger(value) && value >= 0 && value <= 63 ? dscpName(value) : value;
}

function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return 0;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function isoTime(epochNs: bigint): string | null {
  const ms = Number(epochNs / 1_000_000n);
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
