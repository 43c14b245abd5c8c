// The recent receive rate of mcast-receive's views: fed the running counts now and then (every
// quarter second), it gives the rate over the last second — at once, from the first samples on,
// not a second late — and keeps per-second figures for a sparkline.

import type { RateView } from "./_receive_view.ts";

/** How far back the rate looks, and the shortest span it derives a rate from. */
const WINDOW_MS = 1000;
const SHORTEST_MS = 200;

/**
 * Keeps the recent rate of a counter pair (datagrams and bytes).
 *
 * @example
 * ```ts
 * import { RateHistory } from "./_rate_history.ts";
 * const rate = new RateHistory(30);
 * rate.sample(0, 0, 0);
 * rate.sample(500, 50, 10_000);
 * rate.view().pps; // 100 (over the half second there is so far)
 * ```
 */
export class RateHistory {
  readonly #size: number;
  readonly #history: number[] = [];
  readonly #samples: { t: number; packets: number; bytes: number }[] = [];
  #secondAt = NaN;
  #secondPackets = 0;

  /**
   * Constructs a new instance.
   *
   * @param size How many per-second figures to keep for the sparkline.
   */
  constructor(size = 30) {
    this.#size = Math.max(1, Math.floor(size));
  }

  /**
   * Records the counts at a time.
   *
   * @param nowMs A monotonic time in milliseconds.
   * @param packets Datagrams so far.
   * @param bytes Bytes so far.
   */
  sample(nowMs: number, packets: number, bytes: number): void {
    const samples = this.#samples;
    samples.push({ t: nowMs, packets, bytes });
    // Keep one sample at least a window old, and nothing older than it.
    while (samples.length > 2 && nowMs - samples[1].t >= WINDOW_MS) samples.shift();
    if (Number.isNaN(this.#secondAt)) {
      this.#secondAt = nowMs;
      this.#secondPackets = packets;
    } else if (nowMs - this.#secondAt >= WINDOW_MS) {
      const dt = nowMs - this.#secondAt;
      this.#history.push(Math.max(0, packets - this.#secondPackets) * 1000 / dt);
      if (this.#history.length > this.#size) this.#history.shift();
      this.#secondAt = nowMs;
      this.#secondPackets = packets;
    }
  }

  /**
   * The rate over the last second (or over what there is, from 0.2 s on) and its history.
   *
   * @returns A fresh view.
   */
  view(): RateView {
    const samples = this.#samples;
    const last = samples[samples.length - 1];
    const first = samples[0];
    const dt = last === undefined ? 0 : last.t - first.t;
    if (dt < SHORTEST_MS) return { pps: 0, bps: 0, history: [...this.#history] };
    return {
      pps: Math.max(0, last.packets - first.packets) * 1000 / dt,
      bps: Math.max(0, last.bytes - first.bytes) * 8 * 1000 / dt,
      history: [...this.#history],
    };
  }
}
