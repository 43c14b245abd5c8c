/**
 * The options of `ReceiverStats`, their defaults and their validation. Private to
 * `receiver_stats.ts`, which re-exports {@linkcode ReceiverStatsOptions}.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";

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

/** The options with defaults applied, validated, in the units the counter uses. */
export interface ResolvedReceiverStatsOptions {
  /** The stall timeout, nanoseconds (at least 1). */
  stallNs: bigint;
  /** {@linkcode ReceiverStatsOptions.maxSenders}. */
  maxSenders: number;
  /** {@linkcode ReceiverStatsOptions.dupWindow}. */
  dupWindow: number;
  /** {@linkcode ReceiverStatsOptions.maxGaps}. */
  maxGaps: number;
  /** {@linkcode ReceiverStatsOptions.maxSequenceJump}. */
  maxJump: bigint;
  /** {@linkcode ReceiverStatsOptions.sharedClock}. */
  sharedClock: boolean;
  /** {@linkcode ReceiverStatsOptions.epochOffsetNs}. */
  epochOffsetNs: bigint;
}

const NS_PER_S = 1_000_000_000;

/**
 * Applies the defaults and checks every option.
 *
 * @example
 * ```ts
 * import { resolveReceiverStatsOptions } from "./_receiver_stats_options.ts";
 * resolveReceiverStatsOptions({ stallTimeoutS: 0.5 }).stallNs; // 500000000n
 * ```
 *
 * @param options The options given.
 * @returns The options in the counter's units.
 * @throws {InvalidValueError} When an option is out of range.
 */
export function resolveReceiverStatsOptions(
  options: ReceiverStatsOptions,
): ResolvedReceiverStatsOptions {
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
  return {
    stallNs: BigInt(Math.max(1, Math.round(stallTimeoutS * NS_PER_S))),
    maxSenders,
    dupWindow,
    maxGaps,
    maxJump: BigInt(maxSequenceJump),
    sharedClock: sharedClock === true,
    epochOffsetNs,
  };
}
