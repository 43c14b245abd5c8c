/**
 * The clocks: `clock_gettime` in nanoseconds, and sleeping until an absolute time on the
 * monotonic clock (`clock_nanosleep(TIMER_ABSTIME)`, off the JS thread).
 *
 * @module
 */

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check } from "./errno.ts";
import { libc } from "./libc.ts";
import { nativeBuffer } from "./_buffer.ts";

const clockValue = nativeBuffer(PLATFORM.layout.timespecSize);
const clockView = new DataView(clockValue.buffer);

/**
 * Reads a clock (`clock_gettime`) in nanoseconds.
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { clockNs } from "./clock.ts";
 * const now = clockNs(PLATFORM.CLOCK_MONOTONIC);
 * ```
 *
 * @param clock The clock id (`PLATFORM.CLOCK_MONOTONIC`, `CLOCK_REALTIME`).
 * @returns Nanoseconds.
 */
export function clockNs(clock: number): bigint {
  check(libc().clock_gettime(clock, clockValue), "clock_gettime", clock);
  return clockView.getBigInt64(0, LITTLE_ENDIAN) * 1_000_000_000n +
    clockView.getBigInt64(8, LITTLE_ENDIAN);
}

/**
 * CLOCK_MONOTONIC in nanoseconds: the clock MCAS senders stamp and pacing runs on.
 *
 * @example
 * ```ts ignore
 * import { monotonicNs } from "./clock.ts";
 * const start = monotonicNs();
 * ```
 *
 * @returns Nanoseconds.
 */
export function monotonicNs(): bigint {
  return clockNs(PLATFORM.CLOCK_MONOTONIC);
}

/**
 * CLOCK_REALTIME in nanoseconds since the Unix epoch: the clock of the kernel's receive
 * timestamps (SO_TIMESTAMPNS).
 *
 * @example
 * ```ts ignore
 * import { realtimeNs } from "./clock.ts";
 * const now = realtimeNs();
 * ```
 *
 * @returns Nanoseconds.
 */
export function realtimeNs(): bigint {
  return clockNs(PLATFORM.CLOCK_REALTIME);
}

/**
 * Sleeps until the monotonic clock reaches `deadlineNs` (`clock_nanosleep(TIMER_ABSTIME)`, off
 * the JS thread), so pacing does not drift with timer slack. Where the OS lacks absolute
 * sleeps, falls back to a relative timer.
 *
 * @example
 * ```ts ignore
 * import { monotonicNs, sleepUntilMonotonic } from "./clock.ts";
 * await sleepUntilMonotonic(monotonicNs() + 1_000_000n);
 * ```
 *
 * @param deadlineNs Monotonic nanoseconds.
 */
export async function sleepUntilMonotonic(deadlineNs: bigint): Promise<void> {
  if (PLATFORM.TIMER_ABSTIME < 0) {
    const remaining = Number(deadlineNs - monotonicNs()) / 1e6;
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    return;
  }
  const request = nativeBuffer(PLATFORM.layout.timespecSize);
  const view = new DataView(request.buffer);
  view.setBigInt64(0, deadlineNs / 1_000_000_000n, LITTLE_ENDIAN);
  view.setBigInt64(8, deadlineNs % 1_000_000_000n, LITTLE_ENDIAN);
  // clock_nanosleep returns the error number itself; an absolute sleep interrupted by a signal
  // (EINTR) is simply restarted with the same deadline.
  let result: number;
  do {
    result = await libc().clock_nanosleep(
      PLATFORM.CLOCK_MONOTONIC,
      PLATFORM.TIMER_ABSTIME,
      request,
      null,
    );
  } while (result === PLATFORM.errno.EINTR);
  request[0] |= 0; // keep `request` referenced until the worker thread is done with it
}
