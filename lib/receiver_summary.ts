/**
 * The `status`, `totals`, `senders` and `gaps` members of the `mcast-receive --json` summary
 * (CONTRACT "mcast-receive"), built from a {@linkcode ReceiverStats}: the contract's key names
 * and JSON types, u64 values that stay exact, DSCP names, ISO-8601 dates, rounded figures.
 * `ReceiverStats.prototype.summary()` delegates here.
 *
 * @module
 */

import { dscpName } from "./dscp.ts";
import { formatSenderId } from "./mcas.ts";
import type { SenderSnapshot } from "./_sender_state.ts";
import type { GapSnapshot, ReceiverStatus } from "./_stall_log.ts";
import { round } from "./_numbers.ts";

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

/** What a summary is built from: a `ReceiverStats` fits. */
export interface SummarySource {
  /** WAITING, RECEIVING or STALLED. */
  readonly status: ReceiverStatus;
  /** Added to arrival times to make them wall-clock nanoseconds. */
  readonly epochOffsetNs: bigint;
  /** The running totals. */
  totals(): ReceiverTotals;
  /** The senders in the table. */
  senders(): SenderSnapshot[];
  /** The gap log. */
  gaps(): GapSnapshot[];
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
  /** Loss percent, lost / (lost + unique received) × 100, rounded to 0.001. */
  loss_pct: number;
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
  /**
   * Sender ids dropped from the full sender table (their packets stay in the totals, so the
   * senders listed add up to the totals only when this is 0).
   */
  senders_evicted: number;
}

/** `ttl` of a sender in the `mcast-receive --json` summary. */
export interface SenderTtlJson {
  /** The last packet's received TTL / hop limit, or null when the kernel did not report it. */
  received: number | null;
  /** The TTL the sender set (the last packet's MCAS header). */
  original: number;
  /** The last packet's original minus received TTL, or null. */
  hops: number | null;
  /** Smallest received TTL over every packet, or null. */
  min: number | null;
  /** Largest received TTL over every packet, or null. */
  max: number | null;
  /** Times a packet's received TTL differed from the previous packet's. */
  changes: number;
}

/** `dscp` of a sender in the `mcast-receive --json` summary. */
export interface SenderDscpJson {
  /** The last packet's received DSCP, or null when the kernel did not report it. */
  received: JsonDscp | null;
  /** The DSCP the sender set (the last packet's MCAS header). */
  original: JsonDscp;
  /** Whether any packet arrived with another DSCP than its sender set; null when unknown. */
  remarked: boolean | null;
  /** Packets that arrived with another DSCP than their sender set. */
  remarked_packets: number;
  /** Packets per received DSCP, by name (`"ef"`, `"af11"` …) or number. */
  seen: Record<string, number>;
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
  /** Loss percent of this sender, rounded to 0.001. */
  loss_pct: number;
  /** Duplicates. */
  duplicates: number;
  /** Reordered. */
  reordered: number;
  /** Lowest sequence number seen (see {@linkcode JsonU64}). */
  first_seq: JsonU64;
  /** Highest sequence number seen (see {@linkcode JsonU64}). */
  last_seq: JsonU64;
  /** MCAS datagrams per second over this sender's span (first to latest arrival). */
  rate_pps: number;
  /** TTL on arrival: the last packet's, and over every packet. */
  ttl: SenderTtlJson;
  /** DSCP on arrival: the last packet's, and over every packet. */
  dscp: SenderDscpJson;
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

/**
 * The `mcast-receive --json` members that a receiver's statistics produce, exactly as the
 * contract shapes them. Same as {@linkcode ReceiverStats.prototype.summary}.
 *
 * @example
 * ```ts
 * import { ReceiverStats } from "./receiver_stats.ts";
 * import { summarizeReceiver } from "./receiver_summary.ts";
 * const stats = new ReceiverStats();
 * const arrival = {
 *   source: "10.0.0.1",
 *   receivedTtl: 63,
 *   receivedDscp: 10,
 *   arrivalNs: 0n,
 *   bytes: 32,
 * };
 * stats.record({ senderId: 0xffn, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 46 }, arrival);
 * const { status, senders } = summarizeReceiver(stats);
 * status; // "RECEIVING"
 * senders[0].sender_id; // "00000000000000ff"
 * senders[0].dscp.remarked; // true
 * senders[0].dscp.seen; // { af11: 1 }
 * ```
 *
 * @param stats The statistics.
 * @returns A fresh object, ready for `JSON.stringify`.
 */
export function summarizeReceiver(stats: SummarySource): ReceiverSummaryJson {
  const totals = stats.totals();
  const epochOffsetNs = stats.epochOffsetNs;
  return {
    status: stats.status,
    totals: {
      packets: totals.packets,
      bytes: totals.bytes,
      lost: totals.lost,
      loss_pct: round(totals.lossPercent, 3),
      duplicates: totals.duplicates,
      reordered: totals.reordered,
      restarts: totals.restarts,
      foreign: totals.foreign,
      stalls: totals.stalls,
      senders_evicted: totals.evictedSenders,
    },
    senders: stats.senders().map((s) => ({
      sender_id: formatSenderId(BigInt.asUintN(64, s.senderId)),
      source: s.source,
      packets: s.packets,
      lost: s.lost,
      loss_pct: round(s.lossPercent, 3),
      duplicates: s.duplicates,
      reordered: s.reordered,
      first_seq: jsonU64(s.firstSeq),
      last_seq: jsonU64(s.lastSeq),
      rate_pps: round(s.ratePps, 2),
      ttl: {
        received: s.receivedTtl,
        original: s.originalTtl,
        hops: s.hops,
        min: s.ttlMin,
        max: s.ttlMax,
        changes: s.ttlChanges,
      },
      dscp: {
        received: s.receivedDscp === null ? null : jsonDscp(s.receivedDscp),
        original: jsonDscp(s.originalDscp),
        remarked: s.remarked,
        remarked_packets: s.remarkedPackets,
        seen: Object.fromEntries(s.dscpSeen.map(([dscp, n]) => [String(jsonDscp(dscp)), n])),
      },
      jitter_ms: round(s.jitterMs, 3),
    })),
    gaps: stats.gaps().map((gap) => ({
      started_at: isoTime(gap.startedNs + epochOffsetNs),
      duration_s: round(Number(gap.durationNs) / NS_PER_S, 3),
    })),
  };
}

function jsonU64(value: bigint): JsonU64 {
  return value >= 0n && value <= MAX_SAFE ? Number(value) : value.toString();
}

/**
 * A DSCP as the JSON summaries write it: its name where one exists (`"ef"`, `"af41"`, `"be"`),
 * else the number.
 *
 * @example
 * ```ts
 * import { jsonDscp } from "./receiver_summary.ts";
 * jsonDscp(46); // "ef"
 * jsonDscp(5); // 5
 * ```
 *
 * @param value The DSCP.
 * @returns The name or the number.
 */
export function jsonDscp(value: number): JsonDscp {
  return Number.isInteger(value) && value >= 0 && value <= 63 ? dscpName(value) : value;
}

function isoTime(epochNs: bigint): string | null {
  const ms = Number(epochNs / 1_000_000n);
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
