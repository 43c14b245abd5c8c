/**
 * The status half of `ReceiverStats`: WAITING → RECEIVING ⇄ STALLED from the arrival times and
 * the ticks, the stall count and the gap log (the last `maxGaps` silences of the stall timeout or
 * more). Private to `receiver_stats.ts`, which re-exports {@linkcode GapSnapshot} and {@linkcode ReceiverStatus}.
 *
 * @module
 */

/** WAITING (no MCAS datagram yet), RECEIVING, or STALLED (silent for the stall timeout). */
export type ReceiverStatus = "WAITING" | "RECEIVING" | "STALLED";

/** One entry of the gap log. */
export interface GapSnapshot {
  /** When the silence began (the arrival time of the last datagram before it), nanoseconds. */
  startedNs: bigint;
  /** How long it lasted, or has lasted so far when `ongoing`, in nanoseconds. */
  durationNs: bigint;
  /** Whether the silence is still going on. */
  ongoing: boolean;
}

interface Gap {
  startedNs: bigint;
  /** -1n while the gap is still going on. */
  durationNs: bigint;
}

/** Largest distance from the time base that the fast path keeps as a number: 2^51 ns (26 days). */
export const REL_LIMIT = 2 ** 51;
const REL_LIMIT_BIGINT = 2n ** 51n;

/**
 * Status, stalls and the gap log of one receiver.
 *
 * @example
 * ```ts
 * import { StallLog } from "./_stall_log.ts";
 * const log = new StallLog(1_000n, 10);
 * log.arrival(0n);
 * log.tick(1_000n); // "STALLED"
 * log.arrival(1_500n);
 * log.gaps(); // [{ startedNs: 0n, durationNs: 1500n, ongoing: false }]
 * ```
 */
export class StallLog {
  readonly #stallNs: bigint;
  readonly #maxGaps: number;
  readonly #gaps: Gap[] = [];
  #status: ReceiverStatus = "WAITING";
  #lastMcasNs = 0n;
  #clockNs = 0n;
  #openGap: Gap | null = null;
  #stalls = 0;
  // Numeric mode (the batch recorder's fast path): while #numeric, #lastRel and #clockRel hold the
  // last MCAS arrival and the clock as exact numbers of nanoseconds after #baseNs, and the two
  // bigint fields above are stale until #toBigint() writes them back.
  #numeric = false;
  #baseNs = 0n;
  #lastRel = 0;
  #clockRel = 0;
  readonly #stallNumber: number;

  /**
   * Constructs a new instance.
   *
   * @param stallNs The stall timeout, nanoseconds.
   * @param maxGaps Most gaps kept.
   */
  constructor(stallNs: bigint, maxGaps: number) {
    this.#stallNs = stallNs;
    this.#maxGaps = maxGaps;
    this.#stallNumber = Number(stallNs);
  }

  /**
   * Fast path, first half: whether an arrival at `baseNs + rel` (|rel| ≤ 2^51) is the common
   * case — RECEIVING, no gap open, a silence shorter than the stall timeout — that
   * {@linkcode StallLog.prototype.arrivalFast} counts exactly as {@linkcode StallLog.prototype.arrival}
   * would. Changes no figure. `baseNs` must be the same on every call.
   */
  canArriveFast(rel: number, baseNs: bigint): boolean {
    if (this.#status !== "RECEIVING" || this.#openGap !== null) return false;
    if (!this.#numeric) {
      const last = this.#lastMcasNs - baseNs;
      const clock = this.#clockNs - baseNs;
      if (
        last > REL_LIMIT_BIGINT || last < -REL_LIMIT_BIGINT || clock > REL_LIMIT_BIGINT ||
        clock < -REL_LIMIT_BIGINT
      ) {
        return false;
      }
      this.#baseNs = baseNs;
      this.#lastRel = Number(last);
      this.#clockRel = Number(clock);
      this.#numeric = true;
    }
    // Both below 2^51 in size: the difference is exact.
    return !(rel > this.#lastRel && rel - this.#lastRel >= this.#stallNumber);
  }

  /** Fast path, second half: the arrival {@linkcode StallLog.prototype.canArriveFast} accepted. */
  arrivalFast(rel: number): void {
    if (rel > this.#lastRel) this.#lastRel = rel;
    if (rel > this.#clockRel) this.#clockRel = rel;
  }

  #toBigint(): void {
    if (!this.#numeric) return;
    this.#numeric = false;
    this.#lastMcasNs = this.#baseNs + BigInt(this.#lastRel);
    this.#clockNs = this.#baseNs + BigInt(this.#clockRel);
  }

  /** The status now. */
  get status(): ReceiverStatus {
    return this.#status;
  }

  /** Stalls, including one in progress. */
  get stalls(): number {
    return this.#stalls;
  }

  /** An MCAS datagram arrived at `now`: RECEIVING, closing a gap (or counting one no tick saw). */
  arrival(now: bigint): void {
    this.#toBigint();
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
        this.#push({ startedNs: this.#lastMcasNs, durationNs: silence });
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

  /** The time is `now`: a silence of the stall timeout turns the status STALLED. */
  tick(now: bigint): ReceiverStatus {
    this.#toBigint();
    if (now > this.#clockNs) this.#clockNs = now;
    if (this.#status === "RECEIVING" && now - this.#lastMcasNs >= this.#stallNs) {
      this.#status = "STALLED";
      this.#stalls++;
      this.#openGap = { startedNs: this.#lastMcasNs, durationNs: -1n };
      this.#push(this.#openGap);
    }
    return this.#status;
  }

  /** The gap log, oldest first; a gap still going on lasts until the latest time seen. */
  gaps(): GapSnapshot[] {
    this.#toBigint();
    return this.#gaps.map((gap) => {
      const ongoing = gap.durationNs < 0n;
      return {
        startedNs: gap.startedNs,
        durationNs: ongoing ? this.#clockNs - gap.startedNs : gap.durationNs,
        ongoing,
      };
    });
  }

  #push(gap: Gap): void {
    this.#gaps.push(gap);
    if (this.#gaps.length > this.#maxGaps) this.#gaps.shift();
  }
}
