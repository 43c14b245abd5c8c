/**
 * The clocks: `clock_gettime` in nanoseconds, sleeping until an absolute time on the monotonic
 * clock (`clock_nanosleep(TIMER_ABSTIME)`, off the JS thread or, blocking, on it), and the JS
 * thread's timer slack (`prctl(PR_SET_TIMERSLACK)`, Linux), which sets how late the kernel may
 * wake a sleep on that thread (50 µs by default).
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

const blockingRequest = nativeBuffer(PLATFORM.layout.timespecSize);
const blockingView = new DataView(blockingRequest.buffer);

/**
 * Whether {@linkcode blockUntilMonotonic} sleeps on an absolute deadline here (false where the OS
 * lacks `TIMER_ABSTIME`: it then returns at once and the caller must wait otherwise).
 */
export const CAN_BLOCK_UNTIL: boolean = PLATFORM.TIMER_ABSTIME >= 0;

/**
 * Blocks the calling thread until the monotonic clock reaches `deadlineNs`
 * (`clock_nanosleep(TIMER_ABSTIME)` called synchronously): wakes as precisely as the thread's
 * timer slack allows, but nothing else runs on the JS thread meanwhile (no timers, no signal
 * handlers), so only for short waits. Allocates nothing; returns at once for a past deadline or
 * where {@linkcode CAN_BLOCK_UNTIL} is false.
 *
 * @example
 * ```ts ignore
 * import { blockUntilMonotonic, monotonicNs } from "./clock.ts";
 * blockUntilMonotonic(monotonicNs() + 100_000n); // 100 µs
 * ```
 *
 * @param deadlineNs Monotonic nanoseconds.
 */
export function blockUntilMonotonic(deadlineNs: bigint): void {
  if (!CAN_BLOCK_UNTIL) return;
  blockingView.setBigInt64(0, deadlineNs / 1_000_000_000n, LITTLE_ENDIAN);
  blockingView.setBigInt64(8, deadlineNs % 1_000_000_000n, LITTLE_ENDIAN);
  const sleep = libc().clock_nanosleep_blocking;
  let result: number;
  do {
    result = sleep(PLATFORM.CLOCK_MONOTONIC, PLATFORM.TIMER_ABSTIME, blockingRequest, null);
  } while (result === PLATFORM.errno.EINTR);
}

/**
 * Sets the calling thread's timer slack (`prctl(PR_SET_TIMERSLACK)`): the most the kernel may
 * delay its sleeps' wake-ups to group them with others. Linux only; elsewhere nothing happens.
 *
 * @example
 * ```ts ignore
 * import { setTimerSlackNs } from "./clock.ts";
 * const before = setTimerSlackNs(1); // wake within 1 ns of the deadline (when the CPU can)
 * setTimerSlackNs(before); // put it back
 * ```
 *
 * @param ns The new slack, nanoseconds (1 or more; 0 means the thread's default).
 * @returns The slack before, nanoseconds; -1 where the OS has no timer slack.
 */
export function setTimerSlackNs(ns: number): number {
  const prctl = libc().prctl;
  if (prctl === null || PLATFORM.PR_SET_TIMERSLACK < 0) return -1;
  const before = prctl(PLATFORM.PR_GET_TIMERSLACK, 0n, 0n, 0n, 0n);
  prctl(PLATFORM.PR_SET_TIMERSLACK, BigInt(Math.max(0, Math.floor(ns))), 0n, 0n, 0n);
  return before;
}
