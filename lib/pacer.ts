/**
 * Pacing: a token bucket on the monotonic clock (pure, with an injectable clock, so its
 * arithmetic is unit-tested), the plan that turns a packet rate into wake-ups and batch sizes,
 * and the loop that drives a send function until the count, the duration or a signal ends the
 * run. `mcast-send` paces its MCAS stream with it; a script can pace anything that sends.
 *
 * Tokens are computed from the absolute origin on every call (floor(elapsed × rate) + 1), never
 * accumulated interval by interval, so the long-run rate has no drift: after any number of
 * wake-ups at any jitter, the packets due by time t are exactly those a perfect clock would send.
 *
 * Every datagram gets its own deadline up to 100 kpps (an interval of 10 µs, where one send call
 * per datagram still keeps up); above, bursts of ⌈10 µs / interval⌉ datagrams per wake-up. Waits
 * of up to 2 ms are precise sleeps on the JS thread (an absolute `clock_nanosleep` with the
 * thread's timer slack lowered to 1 ns for the run), with the event loop let run every 5 ms
 * between two datagrams; longer waits (100 to 500 pps) sleep off the thread until 1 ms before
 * the deadline and block for the rest; below 100 pps every wait is one sleep off the thread, so
 * that a slow rate costs one timer per datagram and nothing else. A wake-up that came late sends
 * the datagrams due at once (a catch-up burst of at most the bucket's capacity, 0.1 s of
 * datagrams).
 *
 * @module
 */

import {
  blockUntilMonotonic,
  CAN_BLOCK_UNTIL,
  setTimerSlackNs,
  sleepUntilMonotonic,
} from "../ffi/clock.ts";
import { monotonicNs } from "./clock.ts";

/** A monotonic clock that can also sleep until an absolute time. */
export interface PacerClock {
  /** The current time, nanoseconds. */
  now(): bigint;
  /** Resolves at or after `deadlineNs`, letting the event loop run meanwhile. */
  sleepUntil(deadlineNs: bigint): Promise<void>;
  /**
   * Returns at or after `deadlineNs`, precisely, blocking the event loop meanwhile; absent: every
   * wait is a {@linkcode PacerClock.sleepUntil}.
   */
  blockUntil?(deadlineNs: bigint): void;
  /**
   * Prepares a run that uses {@linkcode PacerClock.blockUntil} (for example lowers the thread's
   * timer slack) and returns what undoes it.
   */
  sharpen?(): () => void;
}

/** The JS thread's timer slack during a paced run: wake-ups within 1 ns of the deadline. */
const RUN_TIMER_SLACK_NS = 1;

/**
 * CLOCK_MONOTONIC with absolute-deadline sleeps (`clock_nanosleep(TIMER_ABSTIME)`): off the JS
 * thread for `sleepUntil`, on it for `blockUntil`, whose precision `sharpen` raises by lowering
 * the thread's timer slack (Linux) for the run.
 *
 * @example
 * ```ts ignore
 * import { monotonicClock } from "./pacer.ts";
 * await monotonicClock.sleepUntil(monotonicClock.now() + 1_000_000n);
 * ```
 */
export const monotonicClock: PacerClock = {
  now: monotonicNs,
  sleepUntil: sleepUntilMonotonic,
  blockUntil: CAN_BLOCK_UNTIL ? blockUntilMonotonic : undefined,
  sharpen: () => {
    const before = setTimerSlackNs(RUN_TIMER_SLACK_NS);
    return () => {
      if (before > 0) setTimerSlackNs(before);
    };
  },
};

/** Options of {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** When the first token is available (the bucket starts with one token at this time). */
  startNs: bigint;
  /**
   * The most tokens the bucket holds; tokens earned beyond it are forfeited (a sender that fell
   * behind catches up by at most this many packets at once).
   *
   * @default {1}
   */
  capacity?: number;
}

/**
 * A token bucket at `ratePps` tokens per second: one token at `startNs`, then one every
 * 1/`ratePps` seconds, at most `capacity` held at once.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./pacer.ts";
 * const bucket = new TokenBucket(1000, { startNs: 0n, capacity: 10 });
 * bucket.available(0n); // 1
 * bucket.take(1);
 * bucket.available(5_000_000n); // 5 (tokens at 1, 2, 3, 4 and 5 ms)
 * bucket.dueNs(10); // 10_000_000n
 * ```
 */
export class TokenBucket {
  /** Tokens per second. */
  readonly ratePps: number;
  /** The most tokens held at once. */
  readonly capacity: number;
  /** When the first token was available. */
  readonly startNs: bigint;
  #taken = 0;
  #forfeited = 0;

  /**
   * Constructs a new instance.
   *
   * @param ratePps Tokens per second, above zero.
   * @param options The start time and the capacity.
   */
  constructor(ratePps: number, options: TokenBucketOptions) {
    if (!(ratePps > 0) || !Number.isFinite(ratePps)) {
      throw new RangeError(`Invalid rate: ${ratePps} (expected a finite number above zero)`);
    }
    const capacity = options.capacity ?? 1;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid capacity: ${capacity} (expected an integer of 1 or more)`);
    }
    this.ratePps = ratePps;
    this.capacity = capacity;
    this.startNs = options.startNs;
  }

  /** Tokens taken so far. */
  get taken(): number {
    return this.#taken;
  }

  /** Tokens lost because the bucket was full (the sender was late by more than its capacity). */
  get forfeited(): number {
    return this.#forfeited;
  }

  /**
   * Tokens earned from the start up to `nowNs` (taken, forfeited and available together).
   *
   * @param nowNs The time.
   * @returns The count.
   */
  earned(nowNs: bigint): number {
    if (nowNs < this.startNs) return 0;
    return Math.floor(Number(nowNs - this.startNs) * this.ratePps / 1e9) + 1;
  }

  /**
   * Tokens available at `nowNs`; when more than the capacity have piled up, the excess is
   * forfeited for good.
   *
   * @param nowNs The time, not before the previous call's.
   * @returns The tokens that may be spent now.
   */
  available(nowNs: bigint): number {
    const available = this.earned(nowNs) - this.#taken - this.#forfeited;
    if (available <= this.capacity) return Math.max(0, available);
    this.#forfeited += available - this.capacity;
    return this.capacity;
  }

  /**
   * Spends `n` tokens (packets sent).
   *
   * @param n The count, at most what {@linkcode TokenBucket.available} returned.
   */
  take(n: number): void {
    this.#taken += n;
  }

  /**
   * The earliest time at which `n` tokens are available (in the past when they already are).
   *
   * @param n Tokens wanted, 1 to the capacity.
   * @returns Monotonic nanoseconds.
   */
  dueNs(n: number): bigint {
    // The index (1-based) of the last token needed is k = taken + forfeited + n; token k is
    // earned at start + (k - 1) / rate.
    const k = this.#taken + this.#forfeited + Math.min(Math.max(1, n), this.capacity);
    let due = this.startNs + BigInt(Math.ceil((k - 1) * 1e9 / this.ratePps));
    // Guard against the float rounding of the two divisions disagreeing by a nanosecond.
    while (this.earned(due) < k) due += 1n;
    return due;
  }
}

/** Options of {@linkcode pacingPlan}. */
export interface PacingPlanOptions {
  /**
   * The shortest interval paced datagram by datagram: below it, packets go out in bursts of
   * ⌈minWakeNs / interval⌉ per wake-up (one `sendmmsg`). The default, 10 µs (100 kpps), is where
   * one wake-up and one send call per datagram still keep up.
   *
   * @default {10_000}
   */
  minWakeNs?: number;
  /**
   * The most packets in one send call (batch slots).
   *
   * @default {256}
   */
  maxBatch?: number;
  /**
   * How far behind, in seconds of packets, the sender may catch up in a burst after it was
   * delayed; beyond that the schedule moves on (token bucket capacity).
   *
   * @default {0.1}
   */
  catchUpSeconds?: number;
  /**
   * The most packets a catch-up after a late wake-up sends in one call (the batch is at least
   * the packets per wake-up, at most `maxBatch` and the capacity).
   *
   * @default {64}
   */
  catchUpBatch?: number;
}

/** How a rate is paced. */
export interface PacingPlan {
  /** Packets per second, or null for unpaced (`max`). */
  ratePps: number | null;
  /** Packets the sender waits for before it wakes (1 when the interval is long enough). */
  perWakeup: number;
  /**
   * Batch slots: the most packets handed to one send call (more than `perWakeup` only to catch
   * up after a late wake-up).
   */
  batch: number;
  /** Token bucket capacity (see {@linkcode PacingPlanOptions.catchUpSeconds}). */
  capacity: number;
}

/**
 * Chooses wake-ups and batch sizes for a rate: one packet per wake-up while the interval is at
 * least `minWakeNs` (10 µs: up to 100 kpps), else ⌈minWakeNs / interval⌉ packets per wake-up
 * (bounded by `maxBatch`); catch-up batches of up to `catchUpBatch`; unpaced sends use full
 * batches.
 *
 * @example
 * ```ts
 * import { pacingPlan } from "./pacer.ts";
 * pacingPlan(25); // { ratePps: 25, perWakeup: 1, batch: 3, capacity: 3 }
 * pacingPlan(10_000).perWakeup; // 1 (each datagram at its own time)
 * pacingPlan(400_000).perWakeup; // 4 (a burst of 4 every 10 µs)
 * pacingPlan(null).batch; // 256
 * ```
 *
 * @param ratePps Packets per second, or null for `max`.
 * @param options Limits.
 * @returns The plan.
 */
export function pacingPlan(ratePps: number | null, options: PacingPlanOptions = {}): PacingPlan {
  const minWakeNs = options.minWakeNs ?? 10_000;
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 256));
  const catchUp = options.catchUpSeconds ?? 0.1;
  const catchUpBatch = Math.max(1, Math.floor(options.catchUpBatch ?? 64));
  if (ratePps === null) return { ratePps: null, perWakeup: maxBatch, batch: maxBatch, capacity: 0 };
  const intervalNs = 1e9 / ratePps;
  const perWakeup = intervalNs >= minWakeNs
    ? 1
    : Math.min(maxBatch, Math.ceil(minWakeNs / intervalNs));
  const capacity = Math.max(2 * perWakeup, Math.ceil(ratePps * catchUp));
  const batch = Math.min(maxBatch, Math.max(perWakeup, Math.min(capacity, catchUpBatch)));
  return { ratePps, perWakeup, batch, capacity };
}

/** Why {@linkcode pace} returned. */
export type PaceStop = "count" | "duration" | "signal";

/** Options of {@linkcode pace}. */
export interface PaceOptions {
  /** The plan from {@linkcode pacingPlan}. */
  plan: PacingPlan;
  /**
   * Sends up to `max` packets (at least 1) and returns how many went. Returning 0 means nothing
   * could be sent now (it should have waited for the socket before returning).
   */
  send(max: number): number | Promise<number>;
  /** Stop after exactly this many packets. */
  count?: number;
  /** Stop after this many nanoseconds; undefined or 0 = no limit. */
  durationNs?: bigint;
  /** Stops the run (checked at least every `maxSleepNs`). */
  signal?: AbortSignal;
  /**
   * The clock.
   *
   * @default {monotonicClock}
   */
  clock?: PacerClock;
  /**
   * The longest single sleep, so that a signal is noticed promptly.
   *
   * @default {200_000_000n}
   */
  maxSleepNs?: bigint;
  /**
   * Waits up to this long are precise blocking sleeps ({@linkcode PacerClock.blockUntil});
   * longer ones sleep with the event loop running until half of this before the deadline, then
   * block for the rest.
   *
   * @default {2_000_000n}
   */
  blockWithinNs?: bigint;
  /**
   * Precise sleeps only while the interval is at most this: at lower rates every wait is one
   * sleep off the thread to the deadline (one timer per datagram, nothing else).
   *
   * @default {10_000_000n}
   */
  preciseUpToNs?: bigint;
  /**
   * While sending without sleeping (unpaced, or catching up) or blocking in precise sleeps, call
   * `onYield` about this often so that timers (the dashboard) and signal handlers get to run:
   * between two datagrams when the next one is far enough away, and at the latest after four
   * times this.
   *
   * @default {5_000_000n}
   */
  yieldEveryNs?: bigint;
  /**
   * Lets the event loop run.
   *
   * @default {one turn of the event loop (`setImmediate`)}
   */
  onYield?: () => Promise<unknown>;
  /**
   * When the count ends the run, wait until the next packet would have been due, so that N
   * packets at rate R take N / R seconds (not (N − 1) / R).
   *
   * @default {true}
   */
  finishInterval?: boolean;
}

/** What {@linkcode pace} did. */
export interface PaceResult {
  /** Packets sent. */
  packets: number;
  /** When the run started. */
  startNs: bigint;
  /** When it ended. */
  endNs: bigint;
  /** Why it ended. */
  stoppedBy: PaceStop;
}

/** One turn of the event loop: timers, signals and I/O run, with no clamping of nested calls. */
function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Drives `send` at the plan's rate until the count is reached, the duration is over or the
 * signal fires. Sleeps are absolute deadlines on the clock; packets due before the end of the
 * duration are all sent (⌈duration × rate⌉ of them), later ones never.
 *
 * @example
 * ```ts ignore
 * import { pace, pacingPlan } from "./pacer.ts";
 * const result = await pace({ plan: pacingPlan(1000), count: 100, send: (n) => n });
 * result.packets; // 100, in about 0.1 s
 * ```
 *
 * @param options What to send, how fast and for how long.
 * @returns Packets sent, start and end time, and why it stopped.
 */
export async function pace(options: PaceOptions): Promise<PaceResult> {
  const clock = options.clock ?? monotonicClock;
  const ratePps = options.plan.ratePps;
  const preciseUpToNs = Number(options.preciseUpToNs ?? 10_000_000n);
  const precise = clock.blockUntil !== undefined && ratePps !== null &&
    1e9 / ratePps <= preciseUpToNs;
  const restore = precise ? clock.sharpen?.() : undefined;
  try {
    return await paceLoop(options, clock, precise);
  } finally {
    restore?.();
  }
}

async function paceLoop(
  options: PaceOptions,
  clock: PacerClock,
  precise: boolean,
): Promise<PaceResult> {
  const { plan, send, signal } = options;
  const maxSleepNs = options.maxSleepNs ?? 200_000_000n;
  const yieldEveryNs = options.yieldEveryNs ?? 5_000_000n;
  const forceYieldNs = 4n * yieldEveryNs;
  const blockWithinNs = options.blockWithinNs ?? 2_000_000n;
  const asyncLeadNs = blockWithinNs / 2n;
  const onYield = options.onYield ?? eventLoopTurn;
  const count = options.count ?? Infinity;
  const startNs = clock.now();
  const durationNs = options.durationNs ?? 0n;
  const deadlineNs = durationNs > 0n ? startNs + durationNs : null;
  const bucket = plan.ratePps === null
    ? null
    : new TokenBucket(plan.ratePps, { startNs, capacity: plan.capacity });
  const batch = Math.max(1, plan.batch);
  const blockUntil = precise ? clock.blockUntil?.bind(clock) : undefined;
  let packets = 0;
  let lastYieldNs = startNs;
  // What a yield costs, a running mean in ns: one is taken between two datagrams only when the
  // next is at least twice that far away.
  let yieldCostNs = 30_000;
  let stoppedBy: PaceStop;

  for (;;) {
    if (signal?.aborted) {
      stoppedBy = "signal";
      break;
    }
    if (packets >= count) {
      stoppedBy = "count";
      if (bucket !== null && (options.finishInterval ?? true)) {
        await sleepUntilEnd(bucket.dueNs(1), deadlineNs, clock, maxSleepNs, signal);
      }
      break;
    }
    let now = clock.now();
    const over = deadlineNs !== null && now >= deadlineNs;
    const remaining = count - packets;
    let allowed = Math.min(remaining, batch);
    if (bucket !== null) {
      // Only tokens due strictly before the deadline count.
      const available = bucket.available(over ? deadlineNs - 1n : now);
      const wanted = Math.min(plan.perWakeup, remaining);
      if (available < wanted && !(over && available > 0)) {
        if (over) {
          stoppedBy = "duration";
          break;
        }
        let wake = bucket.dueNs(wanted);
        if (deadlineNs !== null && wake > deadlineNs) wake = deadlineNs;
        if (wake > now + maxSleepNs) wake = now + maxSleepNs;
        const wait = wake - now;
        if (blockUntil === undefined || wait > blockWithinNs) {
          await clock.sleepUntil(blockUntil === undefined ? wake : wake - asyncLeadNs);
          lastYieldNs = clock.now();
          continue;
        }
        const since = now - lastYieldNs;
        if (since >= forceYieldNs || (since >= yieldEveryNs && Number(wait) >= 2 * yieldCostNs)) {
          await onYield();
          lastYieldNs = clock.now();
          // A slow turn (a dashboard redraw, the first turn) counts as at most 200 µs, so that
          // one does not stop the yields between datagrams for the rest of the run.
          const cost = Number(lastYieldNs - now);
          yieldCostNs += ((cost < 200_000 ? cost : 200_000) - yieldCostNs) / 8;
          continue;
        }
        blockUntil(wake);
        continue;
      }
      allowed = Math.min(allowed, available);
    } else if (over) {
      stoppedBy = "duration";
      break;
    }
    const sent = await send(allowed);
    packets += sent;
    bucket?.take(sent);
    now = clock.now();
    // Paced runs yield while waiting for the next datagram (above); here only when they have not
    // waited for long (catching up, or a rate the sender cannot keep up with).
    if (now - lastYieldNs >= (bucket === null ? yieldEveryNs : forceYieldNs)) {
      await onYield();
      lastYieldNs = clock.now();
    }
  }
  return { packets, startNs, endNs: clock.now(), stoppedBy };
}

async function sleepUntilEnd(
  targetNs: bigint,
  deadlineNs: bigint | null,
  clock: PacerClock,
  maxSleepNs: bigint,
  signal: AbortSignal | undefined,
): Promise<void> {
  const end = deadlineNs !== null && deadlineNs < targetNs ? deadlineNs : targetNs;
  for (let now = clock.now(); now < end && !signal?.aborted; now = clock.now()) {
    await clock.sleepUntil(end < now + maxSleepNs ? end : now + maxSleepNs);
  }
}
