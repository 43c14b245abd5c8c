// Tests of the clocks: clock_gettime in nanoseconds (monotonic and realtime) and the absolute
// monotonic sleep.

import assert from "node:assert/strict";
import { SocketError } from "../../lib/errors.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { clockNs, monotonicNs, realtimeNs, sleepUntilMonotonic } from "../../ffi/clock.ts";

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
