// Tests of the clocks: clock_gettime in nanoseconds (monotonic and realtime), the absolute
// monotonic sleeps (off the JS thread and blocking on it) and the thread's timer slack.

import assert from "node:assert/strict";
import { SocketError } from "../../lib/errors.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import {
  blockUntilMonotonic,
  CAN_BLOCK_UNTIL,
  clockNs,
  monotonicNs,
  realtimeNs,
  setTimerSlackNs,
  sleepUntilMonotonic,
} from "../../ffi/clock.ts";

Deno.test("clockNs: monotonic never goes back; realtime is the wall clock", () => {
  let previous = clockNs(P.CLOCK_MONOTONIC);
  assert.equal(typeof previous, "bigint");
  assert.ok(previous > 0n);
  for (let i = 0; i < 10_000; i++) {
    const now = clockNs(P.CLOCK_MONOTONIC);
    assert.ok(now >= previous, `${now} < ${previous}`);
    previous = now;
  }
  const wallMs = Number(clockNs(P.CLOCK_REALTIME) / 1_000_000n);
  assert.ok(Math.abs(wallMs - Date.now()) < 60_000, `${wallMs} vs ${Date.now()}`);
  assert.throws(() => clockNs(9999), (error: unknown) => {
    assert.ok(error instanceof SocketError, String(error));
    assert.equal(error.syscall, "clock_gettime");
    assert.equal(error.errnoName, "EINVAL");
    assert.equal(error.errno, P.errno.EINVAL);
    assert.equal(error.message, "Failed to clock_gettime: EINVAL (errno 22): 9999");
    return true;
  });
});

Deno.test("monotonicNs and realtimeNs read the two clocks", () => {
  const before = clockNs(P.CLOCK_MONOTONIC);
  const monotonic = monotonicNs();
  assert.ok(monotonic >= before && monotonic <= clockNs(P.CLOCK_MONOTONIC));
  const wallBefore = BigInt(Date.now() - 1) * 1_000_000n;
  const realtime = realtimeNs();
  const wallAfter = BigInt(Date.now() + 1) * 1_000_000n;
  assert.ok(realtime >= wallBefore && realtime <= wallAfter, `${realtime}`);
});

Deno.test("sleepUntilMonotonic returns no earlier than the deadline", async () => {
  for (const delayNs of [0n, 1_000_000n, 25_000_000n]) {
    const deadline = monotonicNs() + delayNs;
    await sleepUntilMonotonic(deadline);
    const now = monotonicNs();
    assert.ok(now >= deadline, `woke ${deadline - now} ns early`);
  }
  const past = monotonicNs() - 1_000_000_000n;
  await sleepUntilMonotonic(past);
  assert.ok(monotonicNs() >= past);
});

Deno.test("blockUntilMonotonic returns no earlier than the deadline, at once for a past one", () => {
  assert.equal(CAN_BLOCK_UNTIL, P.TIMER_ABSTIME >= 0);
  if (!CAN_BLOCK_UNTIL) return;
  for (const delayNs of [0n, 50_000n, 1_000_000n, 3_000_000n]) {
    const deadline = monotonicNs() + delayNs;
    blockUntilMonotonic(deadline);
    const now = monotonicNs();
    assert.ok(now >= deadline, `woke ${deadline - now} ns early`);
  }
  const before = monotonicNs();
  blockUntilMonotonic(before - 1_000_000_000n);
  assert.ok(monotonicNs() >= before);
});

Deno.test("setTimerSlackNs sets the thread's timer slack and returns the one before", () => {
  const original = setTimerSlackNs(1);
  if (P.PR_SET_TIMERSLACK < 0) {
    assert.equal(original, -1);
    return;
  }
  assert.ok(original > 0, `slack ${original}`);
  try {
    assert.equal(setTimerSlackNs(12_345), 1);
    assert.equal(setTimerSlackNs(original), 12_345);
  } finally {
    setTimerSlackNs(original);
  }
});
