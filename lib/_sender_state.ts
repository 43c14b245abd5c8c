/**
 * The per-sender half of `ReceiverStats`: one sender id's sequence window (duplicate,
 * late and lost detection) and its TTL/DSCP/jitter/latency figures; the bounded table of sender
 * ids is `./_sender_table.ts`. Private to `receiver_stats.ts`,
 * which keeps the totals over every sender and the status; the counting rules are documented
 * there.
 *
 * Hot path: nothing here allocates per datagram (only bigint temporaries); a new sender id reuses
 * the evicted entry once the table is full.
 *
 * @module
 */

import { PathStats } from "./_path_stats.ts";

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
 * datagram: `ReceiverStats.prototype.record` copies what it keeps.
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
   * is one. Any clock will do as long as `ReceiverStats.prototype.tick` is given the
   * same one; see `ReceiverStatsOptions.epochOffsetNs` for how it becomes wall time.
   */
  arrivalNs: bigint;
  /** UDP payload length in bytes. */
  bytes: number;
}

/** The per-datagram facts of the fast path besides the 64-bit ones (all numbers). */
export interface FastFields {
  /** UDP payload length in bytes. */
  bytes: number;
  /** The TTL / hop limit the sender set. */
  ttl: number;
  /** The DSCP byte the sender set. */
  dscp: number;
  /** TTL / hop limit on arrival, or null when unknown. */
  receivedTtl: number | null;
  /** DSCP on arrival, or null when unknown. */
  receivedDscp: number | null;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * What `ReceiverStats.prototype.record` made of a datagram:
 *
 * - `"first"`: the first datagram of a sender id (a new table entry);
 * - `"next"`: above the highest sequence seen (numbers skipped in between count as lost);
 * - `"late"`: below the highest, not seen before: reordered (and taken out of lost);
 * - `"duplicate"`: already delivered;
 * - `"stale"`: older than the duplicate window, counted as a duplicate;
 * - `"jump"`: more than `maxSequenceJump` away from the highest: a new epoch of the sender.
 */
export type RecordVerdict = "first" | "next" | "late" | "duplicate" | "stale" | "jump";

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
  /** Original minus received TTL of the latest arrival, or null when its TTL is unknown. */
  hops: number | null;
  /** Smallest received TTL over every packet, or null when none was reported. */
  ttlMin: number | null;
  /** Largest received TTL over every packet, or null when none was reported. */
  ttlMax: number | null;
  /** Times a packet's received TTL differed from the previous packet's. */
  ttlChanges: number;
  /** Smallest hop count over every packet, or null when no TTL was reported. */
  hopsMin: number | null;
  /** Largest hop count over every packet, or null when no TTL was reported. */
  hopsMax: number | null;
  /** Packets that arrived without a reported TTL. */
  ttlUnknownPackets: number;
  /** DSCP of the latest arrival, or null when unknown. */
  receivedDscp: number | null;
  /** DSCP the sender set. */
  originalDscp: number;
  /**
   * Whether any packet's received DSCP differed from the DSCP its sender set; null when no
   * packet's DSCP was reported.
   */
  remarked: boolean | null;
  /** Packets whose received DSCP differed from the DSCP their sender set. */
  remarkedPackets: number;
  /** The received DSCP values with their packet counts, most packets first. */
  dscpSeen: [dscp: number, packets: number][];
  /** Packets that arrived without a reported DSCP. */
  dscpUnknownPackets: number;
  /**
   * Packets per second over this sender's span (first to latest arrival): (packets − 1) / span;
   * 0 until two have arrived.
   */
  ratePps: number;
  /** Arrival time of its first datagram, nanoseconds. */
  firstArrivalNs: bigint;
  /** RFC 3550 interarrival jitter, milliseconds. */
  jitterMs: number;
  /** One-way latency, when `ReceiverStatsOptions.sharedClock` is set and known. */
  latencyMs: LatencyMs | null;
  /** Loss percent of this sender. */
  lossPercent: number;
  /** Arrival time of its latest datagram, nanoseconds. */
  lastArrivalNs: bigint;
}

/**
 * One sender id's state. Fields are public for `ReceiverStats`, the only user.
 *
 * @example
 * ```ts
 * import { SenderState } from "./_sender_state.ts";
 * const sender = new SenderState(64);
 * sender.reset(1n, "10.0.0.1");
 * sender.start(0n); // "first"
 * sender.count(3n, 1000n); // "next"
 * sender.lostDelta; // 2
 * sender.count(1n, 1000n); // "late"
 * sender.lost; // 1
 * ```
 */
export class SenderState {
  /** Sender id. */
  senderId = 0n;
  /** Source address of its first datagram. */
  source = "";
  /** Datagrams, duplicates included. */
  packets = 0;
  /** Bytes. */
  bytes = 0;
  /** Distinct sequence numbers delivered. */
  unique = 0;
  /** Sequence numbers that never arrived. */
  lost = 0;
  /** Duplicates (stale ones included). */
  duplicates = 0;
  /** Reordered datagrams. */
  reordered = 0;
  /** New epochs started by absurd jumps. */
  jumps = 0;
  /** High 32 bits of the sender id (the fast lookup's key). */
  idHigh = 0;
  /** Low 32 bits of the sender id. */
  idLow = 0;
  /** Index of `highSeq` in the window ring. */
  highPos = 0;
  /** TTL / hop limit the sender set. */
  originalTtl = 0;
  /** TTL / hop limit of the latest arrival, or null when unknown. */
  receivedTtl: number | null = null;
  /** DSCP the sender set. */
  originalDscp = 0;
  /** DSCP of the latest arrival, or null when unknown. */
  receivedDscp: number | null = null;
  /** Jitter estimate, nanoseconds. */
  jitterNs = 0;
  /** Whether `prevTransit` is set. */
  hasTransit = false;
  /** Smallest one-way latency, nanoseconds. */
  latencyMinNs = 0;
  /** Largest one-way latency, nanoseconds. */
  latencyMaxNs = 0;
  /** Sum of the one-way latencies, nanoseconds. */
  latencySumNs = 0;
  /** One-way latencies summed. */
  latencyCount = 0;
  /** Arrival time of its first datagram, nanoseconds. */
  firstArrivalNs = 0n;
  /** TTL and DSCP over every packet. */
  readonly path: PathStats = new PathStats();
  /** What the last {@linkcode SenderState.prototype.count} added to `lost` (may be negative). */
  lostDelta = 0;
  /** Bit i set: the sequence number at ring position i was delivered. */
  readonly window: Uint32Array;
  readonly #mask: number;

  // The four 64-bit figures of the hot path. While #numeric (the batch recorder's fast path), the
  // numbers hold them exactly — sequence numbers below 2^53, times as nanoseconds after #baseNs —
  // and the bigints are stale until #toBigint() writes them back (any bigint read or write does).
  #firstSeq = 0n;
  #highSeq = 0n;
  #lastArrivalNs = 0n;
  #prevTransit = 0n;
  #numeric = false;
  #baseNs = 0n;
  #firstNumber = 0;
  #highNumber = 0;
  #lastArrivalRel = 0;
  #prevTransitRel = 0;

  /** Lowest sequence number seen in the current epoch. */
  get firstSeq(): bigint {
    this.#toBigint();
    return this.#firstSeq;
  }
  set firstSeq(value: bigint) {
    this.#toBigint();
    this.#firstSeq = value;
  }

  /** Highest sequence number seen in the current epoch. */
  get highSeq(): bigint {
    this.#toBigint();
    return this.#highSeq;
  }
  set highSeq(value: bigint) {
    this.#toBigint();
    this.#highSeq = value;
  }

  /** Arrival time of its latest datagram, nanoseconds. */
  get lastArrivalNs(): bigint {
    this.#toBigint();
    return this.#lastArrivalNs;
  }
  set lastArrivalNs(value: bigint) {
    this.#toBigint();
    this.#lastArrivalNs = value;
  }

  /** Arrival minus send time of the previous datagram, nanoseconds. */
  get prevTransit(): bigint {
    this.#toBigint();
    return this.#prevTransit;
  }
  set prevTransit(value: bigint) {
    this.#toBigint();
    this.#prevTransit = value;
  }

  /**
   * Constructs a new instance.
   *
   * @param windowBits Size of the duplicate window: a power of two, at least 64.
   */
  constructor(windowBits: number) {
    this.window = new Uint32Array(windowBits >>> 5);
    this.#mask = windowBits - 1;
  }

  /**
   * Makes the entry a fresh one for another sender id (an evicted entry is reused).
   *
   * @param senderId The sender id.
   * @param source The source address of its first datagram.
   */
  reset(senderId: bigint, source: string): void {
    this.#numeric = false;
    this.senderId = senderId;
    // An id outside 64 unsigned bits (only a script can give one) is never found by halves.
    const wire = senderId >= 0n && senderId <= U64_MAX;
    this.idHigh = wire ? Number(senderId >> 32n) : -1;
    this.idLow = wire ? Number(senderId & 0xffff_ffffn) : -1;
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
    this.firstArrivalNs = 0n;
    this.lostDelta = 0;
    this.path.reset();
    this.window.fill(0);
  }

  /** Starts the sequence space at the first datagram of a new sender id. */
  start(sequence: bigint): RecordVerdict {
    this.firstSeq = sequence;
    this.highSeq = sequence;
    this.highPos = 0;
    this.#setBit(0);
    this.unique = 1;
    this.lostDelta = 0;
    return "first";
  }

  /**
   * Places a sequence number in the window: what it is (next, late, duplicate, stale or an
   * absurd jump), with the sender's own counters updated and `lostDelta` set.
   */
  count(sequence: bigint, maxJump: bigint): RecordVerdict {
    this.lostDelta = 0;
    const delta = sequence - this.highSeq;
    if (delta > maxJump || delta < -maxJump) {
      // An absurd jump: a new epoch of this sender, not billions lost or stale.
      this.jumps++;
      this.firstSeq = sequence;
      this.highSeq = sequence;
      this.highPos = 0;
      this.window.fill(0);
      this.#setBit(0);
      this.unique++;
      return "jump";
    }
    const d = Number(delta);
    if (d > 0) {
      this.#addLost(d - 1);
      this.#advance(d);
      this.highSeq = sequence;
      this.#setBit(this.highPos);
      this.unique++;
      return "next";
    }
    if (-d > this.#mask) {
      // Older than the window: cannot tell late from duplicate; count it as a duplicate so that
      // `lost` never goes below the truth of what the window could see.
      this.duplicates++;
      return "stale";
    }
    const pos = (this.highPos + d) & this.#mask;
    if ((this.window[pos >>> 5] & (1 << (pos & 31))) !== 0) {
      this.duplicates++;
      return "duplicate";
    }
    this.#setBit(pos);
    this.unique++;
    this.reordered++;
    if (sequence >= this.firstSeq) {
      this.#addLost(-1);
    } else {
      // Below the lowest seen: the numbers in between are now between first and highest.
      this.#addLost(Number(this.firstSeq - sequence) - 1);
      this.firstSeq = sequence;
    }
    return "late";
  }

  /**
   * Takes in the rest of an arrival once {@linkcode SenderState.prototype.count} placed it:
   * packets, bytes, TTL and DSCP, and (unless a duplicate) the RFC 3550 jitter and, with a shared
   * clock, the one-way latency.
   */
  arrive(header: McasFields, arrival: Arrival, verdict: RecordVerdict, sharedClock: boolean): void {
    const now = arrival.arrivalNs;
    if (this.packets === 0) this.firstArrivalNs = now;
    this.packets++;
    this.bytes += arrival.bytes;
    this.lastArrivalNs = now;
    this.originalTtl = header.ttl;
    this.originalDscp = header.dscp;
    this.receivedTtl = arrival.receivedTtl;
    this.receivedDscp = arrival.receivedDscp;
    this.path.add(header.ttl, arrival.receivedTtl, header.dscp, arrival.receivedDscp);
    if (verdict === "duplicate" || verdict === "stale") return;
    const transit = now - header.timestampNs;
    if (this.hasTransit) {
      // RFC 3550 §6.4.1: D = (Rj − Ri) − (Sj − Si) = transit j − transit i; J += (|D| − J) / 16.
      const d = Math.abs(Number(transit - this.prevTransit));
      this.jitterNs += (d - this.jitterNs) / 16;
    }
    this.prevTransit = transit;
    this.hasTransit = true;
    if (!sharedClock) return;
    const latency = Number(transit);
    if (this.latencyCount === 0 || latency < this.latencyMinNs) this.latencyMinNs = latency;
    if (this.latencyCount === 0 || latency > this.latencyMaxNs) this.latencyMaxNs = latency;
    this.latencySumNs += latency;
    this.latencyCount++;
  }

  /**
   * Fast path, first half: the distance of sequence number `sequence` (below 2^53) from the
   * highest seen when the sender's state can be kept as numbers relative to `baseNs` (the same on
   * every call), or 0 when it cannot: the caller then takes the bigint path. Changes no figure.
   */
  fastDelta(sequence: number, baseNs: bigint): number {
    if (!this.#numeric) {
      if (!this.hasTransit || this.#highSeq > MAX_SAFE || this.#firstSeq > MAX_SAFE) return 0;
      const last = this.#lastArrivalNs - baseNs;
      const transit = this.#prevTransit - baseNs;
      if (last > MAX_SAFE || last < -MAX_SAFE || transit > MAX_SAFE || transit < -MAX_SAFE) {
        return 0;
      }
      this.#baseNs = baseNs;
      this.#firstNumber = Number(this.#firstSeq);
      this.#highNumber = Number(this.#highSeq);
      this.#lastArrivalRel = Number(last);
      this.#prevTransitRel = Number(transit);
      this.#numeric = true;
    }
    return sequence - this.#highNumber;
  }

  /**
   * Fast path, second half: counts a `"next"` datagram exactly as
   * {@linkcode SenderState.prototype.count} and {@linkcode SenderState.prototype.arrive} would,
   * with numbers: `delta` (1 to the largest jump) from {@linkcode SenderState.prototype.fastDelta},
   * the arrival and send times as nanoseconds (arrival after the base; |arrival| ≤ 2^51, send
   * time ≤ 2^52, so every difference is exact), `baseNumber` the base as a number (exact when
   * the latency is kept).
   */
  nextFast(
    sequence: number,
    delta: number,
    arrivalRel: number,
    sendNs: number,
    fields: FastFields,
    sharedClock: boolean,
    baseNumber: number,
  ): void {
    // count(): "next".
    this.#addLost(delta - 1);
    this.#advance(delta);
    this.#highNumber = sequence;
    this.#setBit(this.highPos);
    this.unique++;
    // arrive(), not a duplicate, with a transit before.
    this.packets++;
    this.bytes += fields.bytes;
    this.#lastArrivalRel = arrivalRel;
    this.originalTtl = fields.ttl;
    this.originalDscp = fields.dscp;
    this.receivedTtl = fields.receivedTtl;
    this.receivedDscp = fields.receivedDscp;
    this.path.add(fields.ttl, fields.receivedTtl, fields.dscp, fields.receivedDscp);
    const transit = arrivalRel - sendNs;
    // Both exact numbers: the difference is rounded once, as Number() of the bigint one is.
    const d = Math.abs(transit - this.#prevTransitRel);
    this.jitterNs += (d - this.jitterNs) / 16;
    this.#prevTransitRel = transit;
    if (!sharedClock) return;
    // baseNumber exact, transit exact: one rounding, as Number() of the bigint transit.
    const latency = baseNumber + transit;
    if (this.latencyCount === 0 || latency < this.latencyMinNs) this.latencyMinNs = latency;
    if (this.latencyCount === 0 || latency > this.latencyMaxNs) this.latencyMaxNs = latency;
    this.latencySumNs += latency;
    this.latencyCount++;
  }

  #toBigint(): void {
    if (!this.#numeric) return;
    this.#numeric = false;
    this.#firstSeq = BigInt(this.#firstNumber);
    this.#highSeq = BigInt(this.#highNumber);
    this.#lastArrivalNs = this.#baseNs + BigInt(this.#lastArrivalRel);
    this.#prevTransit = this.#baseNs + BigInt(this.#prevTransitRel);
  }

  /** A fresh snapshot, with the loss percent the caller computed. */
  snapshot(lossPercent: number): SenderSnapshot {
    const path = this.path;
    const ttlKnown = path.ttlPackets > 0;
    const spanNs = Number(this.lastArrivalNs - this.firstArrivalNs);
    return {
      senderId: this.senderId,
      source: this.source,
      packets: this.packets,
      bytes: this.bytes,
      unique: this.unique,
      lost: this.lost,
      duplicates: this.duplicates,
      reordered: this.reordered,
      jumps: this.jumps,
      firstSeq: this.firstSeq,
      lastSeq: this.highSeq,
      receivedTtl: this.receivedTtl,
      originalTtl: this.originalTtl,
      hops: this.receivedTtl === null ? null : this.originalTtl - this.receivedTtl,
      ttlMin: ttlKnown ? path.ttlMin : null,
      ttlMax: ttlKnown ? path.ttlMax : null,
      ttlChanges: path.ttlChanges,
      hopsMin: ttlKnown ? path.hopsMin : null,
      hopsMax: ttlKnown ? path.hopsMax : null,
      ttlUnknownPackets: this.packets - path.ttlPackets,
      receivedDscp: this.receivedDscp,
      originalDscp: this.originalDscp,
      remarked: path.dscpPackets === 0 ? null : path.remarkedPackets > 0,
      remarkedPackets: path.remarkedPackets,
      dscpSeen: path.dscpHistogram(),
      dscpUnknownPackets: this.packets - path.dscpPackets,
      ratePps: this.packets > 1 && spanNs > 0 ? ((this.packets - 1) * 1e9) / spanNs : 0,
      firstArrivalNs: this.firstArrivalNs,
      jitterMs: this.jitterNs / 1e6,
      latencyMs: this.latencyCount === 0 ? null : {
        min: this.latencyMinNs / 1e6,
        avg: this.latencySumNs / this.latencyCount / 1e6,
        max: this.latencyMaxNs / 1e6,
      },
      lossPercent,
      lastArrivalNs: this.lastArrivalNs,
    };
  }

  #addLost(n: number): void {
    this.lost += n;
    this.lostDelta = n;
  }

  /** Moves the window's top forward by `d` (> 0), clearing the positions it enters. */
  #advance(d: number): void {
    const window = this.window;
    const mask = this.#mask;
    if (d > mask) {
      window.fill(0);
      this.highPos = (this.highPos + d) & mask;
      return;
    }
    let pos = (this.highPos + 1) & mask;
    let left = d;
    while (left > 0) {
      const bit = pos & 31;
      const word = pos >>> 5;
      if (bit === 0 && left >= 32) {
        window[word] = 0;
        pos = (pos + 32) & mask;
        left -= 32;
      } else {
        window[word] &= ~(1 << bit);
        pos = (pos + 1) & mask;
        left--;
      }
    }
    this.highPos = (this.highPos + d) & mask;
  }

  #setBit(pos: number): void {
    this.window[pos >>> 5] |= 1 << (pos & 31);
  }
}
