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

  /**
   * Constructs a new instance.
   *
   * @param stallNs The stall timeout, nanoseconds.
   * @param maxGaps Most gaps kept.
   */
  constructor(stallNs: bigint, maxGaps: number) {
    this.#stallNs = stallNs;
    this.#maxGaps = maxGaps;
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
