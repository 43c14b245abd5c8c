/**
 * The clocks the library and the tools time things on: CLOCK_MONOTONIC (what MCAS senders stamp
 * and pacing runs on) and CLOCK_REALTIME (the kernel's receive timestamps), in nanoseconds.
 *
 * @module
 */

import { monotonicNs, realtimeNs } from "../ffi/clock.ts";

export { monotonicNs, realtimeNs };

/**
 * CLOCK_REALTIME minus CLOCK_MONOTONIC now, in nanoseconds: subtract it from a kernel receive
 * time to put it on the monotonic clock, add it to a monotonic time to get a date.
 *
 * @example
 * ```ts ignore
 * import { monotonicNs, realtimeOffsetNs } from "./clock.ts";
 * const date = new Date(Number((monotonicNs() + realtimeOffsetNs()) / 1_000_000n));
 * ```
 *
 * @returns Nanoseconds.
 */
export function realtimeOffsetNs(): bigint {
  return realtimeNs() - monotonicNs();
}
