// The token bucket and the pacing loop of mcast-send, on an injected clock: a deadline per
// datagram, burst sizes, exact counts over long simulated runs, no drift under wake-up jitter,
// catch-up limits, yields between datagrams, timer slack set and restored, signals.

import assert from "node:assert/strict";
import { pace, type PacerClock, pacingPlan, TokenBucket } from "../../lib/pacer.ts";

/** A simulated monotonic clock: sleeps jump to the deadline plus a deterministic jitter. */
class FakeClock implements PacerClock {
  t: bigint;
  sleeps = 0;
  #seed = 12345;
  constructor(start = 1_000_000_000n, readonly maxJitterNs = 0) {
    this.t = start;
  }
  now(): bigint {
    return this.t;
  }
  sleepUntil(deadlineNs: bigint): Promise<void> {
    this.sleeps++;
    if (deadlineNs > this.t) this.t = deadlineNs;
    this.t += BigInt(Math.floor(this.#random() * this.maxJitterNs));
    return Promise.resolve();
  }
  advance(ns: bigint): void {
    this.t += ns;
  }
  #random(): number {
    // xorshift: reproducible runs
    this.#seed ^= this.#seed << 13;
    this.#seed ^= this.#seed >>> 17;
    this.#seed ^= this.#seed << 5;
    return (this.#seed >>> 0) / 4294967296;
  }
}

/** A fake clock that can also block precisely (as the JS thread's clock_nanosleep does). */
class PreciseFakeClock extends FakeClock {
  blocks = 0;
  sharpened = 0;
  restored = 0;
  lateBlocks: (n: number) => bigint = () => 0n;
  blockUntil(deadlineNs: bigint): void {
    this.blocks++;
    if (deadlineNs > this.t) this.t = deadlineNs;
    this.t += this.lateBlocks(this.blocks);
  }
  sharpen(): () => void {
    this.sharpened++;
    return () => this.restored++;
  }
}

const resolved = () => Promise.resolve();

Deno.test("TokenBucket starts with one token and earns one per interval", () => {
  const bucket = new TokenBucket(1000, { startNs: 5_000n, capacity: 100 });
  assert.equal(bucket.available(4_999n), 0);
  assert.equal(bucket.available(5_000n), 1);
  bucket.take(1);
  assert.equal(bucket.available(5_000n), 0);
  assert.equal(bucket.available(5_000n + 999_999n), 0);
  assert.equal(bucket.available(5_000n + 1_000_000n), 1);
  assert.equal(bucket.available(5_000n + 10_000_000n), 10);
  bucket.take(10);
  assert.equal(bucket.taken, 11);
  assert.equal(bucket.dueNs(1), 5_000n + 11_000_000n);
  assert.equal(bucket.dueNs(5), 5_000n + 15_000_000n);
});

Deno.test("TokenBucket forfeits tokens above its capacity", () => {
  const bucket = new TokenBucket(1000, { startNs: 0n, capacity: 50 });
  assert.equal(bucket.available(1_000_000_000n), 50); // 1001 earned, 50 kept
  assert.equal(bucket.forfeited, 951);
  bucket.take(50);
  assert.equal(bucket.available(1_000_000_000n), 0);
  assert.equal(bucket.dueNs(1), 1_001_000_000n);
  assert.equal(bucket.dueNs(500), 1_050_000_000n, "capped at the capacity");
});

Deno.test("TokenBucket dueNs is exact for rates that do not divide a second", () => {
  for (const rate of [3, 7, 937.5, 0.3, 33_333.3, 1e8]) {
    const bucket = new TokenBucket(rate, { startNs: 123n, capacity: 1_000_000 });
    for (let taken = 0; taken < 2000; taken += 97) {
      const due = bucket.dueNs(1);
      assert.ok(bucket.earned(due) >= bucket.taken + 1, `rate ${rate}: token due at ${due}`);
      assert.ok(bucket.earned(due - 1n) < bucket.taken + 1, `rate ${rate}: not earlier`);
      bucket.take(97);
    }
  }
});

Deno.test("TokenBucket refuses a bad rate or capacity", () => {
  assert.throws(() => new TokenBucket(0, { startNs: 0n }), RangeError);
  assert.throws(() => new TokenBucket(Infinity, { startNs: 0n }), RangeError);
  assert.throws(() => new TokenBucket(10, { startNs: 0n, capacity: 0 }), RangeError);
});

Deno.test("pacingPlan: a deadline per datagram up to 100 kpps, bursts above", () => {
  assert.deepEqual(pacingPlan(25), { ratePps: 25, perWakeup: 1, batch: 3, capacity: 3 });
  assert.equal(pacingPlan(1000).perWakeup, 1);
  assert.equal(pacingPlan(10_000).perWakeup, 1);
  assert.equal(pacingPlan(50_000).perWakeup, 1);
  assert.equal(pacingPlan(100_000).perWakeup, 1, "10 µs: still one per wake-up");
  assert.equal(pacingPlan(100_001).perWakeup, 2);
  assert.equal(pacingPlan(400_000).perWakeup, 4);
  assert.equal(pacingPlan(10_000_000).perWakeup, 100);
  assert.equal(pacingPlan(100_000_000).perWakeup, 256, "bounded by maxBatch");
  assert.equal(pacingPlan(100_000_000, { maxBatch: 64 }).batch, 64);
  assert.equal(pacingPlan(10_000).capacity, 1000, "0.1 s of catch-up");
  assert.equal(pacingPlan(10_000).batch, 64, "catch-up batches");
  assert.equal(pacingPlan(10_000, { catchUpBatch: 8 }).batch, 8);
  assert.equal(pacingPlan(10_000, { maxBatch: 16 }).batch, 16);
  assert.equal(pacingPlan(1000, { minWakeNs: 1_000_000 }).perWakeup, 1);
  assert.equal(pacingPlan(10_000, { minWakeNs: 1_000_000 }).perWakeup, 10, "the old 1 ms plan");
  const max = pacingPlan(null, { maxBatch: 128 });
  assert.equal(max.ratePps, null);
  assert.equal(max.batch, 128);
});

Deno.test("pace sends each datagram at its own deadline at 10 kpps, in precise sleeps", async () => {
  const clock = new PreciseFakeClock();
  const times: bigint[] = [];
  let yields = 0;
  const result = await pace({
    plan: pacingPlan(10_000),
    count: 10_000,
    clock,
    onYield: () => {
      yields++;
      return Promise.resolve();
    },
    send: (n) => {
      assert.equal(n, 1);
      times.push(clock.now());
      return n;
    },
  });
  assert.equal(result.packets, 10_000);
  assert.equal(result.stoppedBy, "count");
  for (const [i, t] of times.entries()) assert.equal(t - result.startNs, BigInt(i) * 100_000n);
  assert.equal(clock.blocks, 10_000 - 1, "one blocking sleep before each datagram but the first");
  // The event loop runs every 5 ms between two datagrams: 200 times in 1 s.
  assert.ok(yields >= 190 && yields <= 200, `${yields} yields`);
  assert.equal(clock.sleeps, 1, "only finishInterval's last wait is asynchronous");
  assert.equal(result.endNs - result.startNs, 1_000_000_000n);
  assert.deepEqual([clock.sharpened, clock.restored], [1, 1]);
});

Deno.test("pace bursts ⌈10 µs / interval⌉ datagrams per wake-up above 100 kpps", async () => {
  const clock = new PreciseFakeClock();
  const sizes: number[] = [];
  const result = await pace({
    plan: pacingPlan(400_000),
    count: 40_000,
    clock,
    onYield: resolved,
    send: (n) => {
      sizes.push(n);
      return n;
    },
  });
  assert.equal(result.packets, 40_000);
  assert.ok(sizes.every((n) => n === 4), `burst sizes ${[...new Set(sizes)]}`);
  assert.equal(sizes.length, 10_000);
});

Deno.test("pace catches up after a late precise wake-up with one batch, then is on time again", async () => {
  const clock = new PreciseFakeClock(0n);
  clock.lateBlocks = (n) => (n === 500 ? 1_050_000n : 0n); // one wake-up 1.05 ms late
  const sizes: number[] = [];
  const result = await pace({
    plan: pacingPlan(10_000),
    durationNs: 1_000_000_000n,
    clock,
    onYield: resolved,
    send: (n) => {
      sizes.push(n);
      return n;
    },
  });
  assert.equal(result.packets, 10_000, "exactly duration × rate");
  const bursts = sizes.filter((n) => n > 1);
  assert.deepEqual(bursts, [11], "the 11 datagrams due by then go at once");
});

Deno.test("pace at 25 pps: one timer per datagram and nothing else", async () => {
  const clock = new PreciseFakeClock();
  const times: bigint[] = [];
  const result = await pace({
    plan: pacingPlan(25),
    durationNs: 2_000_000_000n,
    clock,
    send: (n) => {
      times.push(clock.now());
      return n;
    },
  });
  assert.equal(result.packets, 50);
  for (const [i, t] of times.entries()) assert.equal(t - result.startNs, BigInt(i) * 40_000_000n);
  assert.equal(
    clock.sleeps,
    50,
    "one asynchronous sleep before each datagram but the first, and the end",
  );
  assert.equal(clock.blocks, 0, "no precise sleeps below 100 pps");
  assert.equal(clock.sharpened, 0, "the timer slack is left alone");
});

Deno.test("pace at 200 pps: a timer to 1 ms before each deadline, then a short precise sleep", async () => {
  const clock = new PreciseFakeClock();
  const times: bigint[] = [];
  const result = await pace({
    plan: pacingPlan(200),
    count: 100,
    clock,
    send: (n) => {
      times.push(clock.now());
      return n;
    },
  });
  assert.equal(result.packets, 100);
  for (const [i, t] of times.entries()) assert.equal(t - result.startNs, BigInt(i) * 5_000_000n);
  assert.equal(
    clock.sleeps,
    100,
    "one asynchronous sleep before each datagram but the first, and the end",
  );
  assert.equal(clock.blocks, 99, "each finished by a blocking sleep of 1 ms");
  assert.deepEqual([clock.sharpened, clock.restored], [1, 1]);
});

Deno.test("pace restores the timer slack also when send throws, and leaves it alone unpaced", async () => {
  const clock = new PreciseFakeClock();
  await assert.rejects(
    pace({
      plan: pacingPlan(1000),
      count: 10,
      clock,
      onYield: resolved,
      send: () => {
        throw new Error("boom");
      },
    }),
    /boom/,
  );
  assert.deepEqual([clock.sharpened, clock.restored], [1, 1]);
  await pace({ plan: pacingPlan(null), count: 10, clock, onYield: resolved, send: (n) => n });
  assert.equal(clock.sharpened, 1, "an unpaced run never sleeps: nothing to sharpen");
});

Deno.test("pace forces a yield when the next datagram is never far enough away", async () => {
  const clock = new PreciseFakeClock();
  let yields = 0;
  await pace({
    plan: pacingPlan(50_000),
    count: 50_000,
    clock,
    onYield: () => {
      yields++;
      clock.advance(50_000n); // each turn of the event loop takes 50 µs, more than an interval
      return Promise.resolve();
    },
    send: (n) => n,
  });
  // Every 20 ms at the latest (4 × 5 ms): about 50 in the simulated second, plus the catch-ups.
  assert.ok(yields >= 45 && yields <= 60, `${yields} yields`);
});

Deno.test("pace sends one packet per wake-up at 25 pps, exactly on the schedule", async () => {
  const clock = new FakeClock();
  const times: bigint[] = [];
  const result = await pace({
    plan: pacingPlan(25),
    durationNs: 10_000_000_000n,
    clock,
    onYield: resolved,
    send: (n) => {
      assert.equal(n, 1);
      times.push(clock.now());
      return n;
    },
  });
  assert.equal(result.packets, 250);
  assert.equal(result.stoppedBy, "duration");
  for (const [i, t] of times.entries()) assert.equal(t - result.startNs, BigInt(i) * 40_000_000n);
  assert.equal(result.endNs - result.startNs, 10_000_000_000n);
});

Deno.test("pace holds the rate over a long run with jittery wake-ups (no drift)", async () => {
  // One simulated hour at 100 pps with up to 3 ms of lateness on every wake-up.
  const clock = new FakeClock(7n, 3_000_000);
  const rate = 100;
  let sent = 0;
  let worstLagNs = 0n;
  const result = await pace({
    plan: pacingPlan(rate),
    durationNs: 3_600_000_000_000n,
    clock,
    onYield: resolved,
    send: (n) => {
      for (let i = 0; i < n; i++) {
        const ideal = BigInt(Math.ceil((sent + i) * 1e9 / rate));
        const offset = clock.now() - 7n;
        assert.ok(offset >= ideal, `packet ${sent + i} early: ${offset} < ${ideal}`);
        if (offset - ideal > worstLagNs) worstLagNs = offset - ideal;
      }
      sent += n;
      return n;
    },
  });
  assert.equal(result.packets, 360_000, "exactly duration × rate");
  assert.ok(worstLagNs <= 3_000_000n, `lag ${worstLagNs} ns stays within one jitter`);
});

Deno.test("pace at 10 kpps with late wake-ups sends larger bursts and still exact totals", async () => {
  const clock = new FakeClock(0n, 2_500_000); // wake-ups up to 2.5 ms late
  const sizes: number[] = [];
  const result = await pace({
    plan: pacingPlan(10_000),
    durationNs: 60_000_000_000n,
    clock,
    onYield: resolved,
    send: (n) => {
      sizes.push(n);
      return n;
    },
  });
  assert.equal(result.packets, 600_000);
  assert.ok(Math.max(...sizes) <= pacingPlan(10_000).batch, "never more than the batch per call");
  assert.ok(Math.max(...sizes) > 1, "late wake-ups catch up in one call");
  assert.ok(sizes.every((n) => n >= 1));
});

Deno.test("pace counts packets due before the end of the duration: ceil(duration × rate)", async () => {
  for (
    const [rate, durationNs, expected] of [
      [3, 500_000_000n, 2],
      [3, 1_000_000_000n, 3],
      [7, 1_000_000_000n, 7],
      [25, 1_000_000_000n, 25],
      [2_500, 1_000_000_000n, 2_500],
      [937.5, 2_000_000_000n, 1_875],
    ] as const
  ) {
    const result = await pace({
      plan: pacingPlan(rate),
      durationNs,
      clock: new FakeClock(0n, 400_000),
      onYield: resolved,
      send: (n) => n,
    });
    assert.equal(result.packets, expected, `${rate} pps for ${durationNs} ns`);
  }
});

Deno.test("pace: the count wins when it comes before the duration, and vice versa", async () => {
  const byCount = await pace({
    plan: pacingPlan(1000),
    count: 20,
    durationNs: 10_000_000_000n,
    clock: new FakeClock(),
    onYield: resolved,
    send: (n) => n,
  });
  assert.deepEqual([byCount.packets, byCount.stoppedBy], [20, "count"]);
  assert.equal(byCount.endNs - byCount.startNs, 20_000_000n);
  const byDuration = await pace({
    plan: pacingPlan(1000),
    count: 5000,
    durationNs: 1_000_000_000n,
    clock: new FakeClock(),
    onYield: resolved,
    send: (n) => n,
  });
  assert.deepEqual([byDuration.packets, byDuration.stoppedBy], [1000, "duration"]);
});

Deno.test("pace catches up after a stall by at most the bucket capacity", async () => {
  const clock = new FakeClock(0n);
  const plan = pacingPlan(1000); // capacity 100
  const sizes: number[] = [];
  let calls = 0;
  const result = await pace({
    plan: { ...plan, batch: 1000 },
    durationNs: 3_000_000_000n,
    clock,
    onYield: resolved,
    send: (n) => {
      if (++calls === 100) clock.advance(1_000_000_000n); // a one-second stall
      sizes.push(n);
      return n;
    },
  });
  assert.equal(Math.max(...sizes), plan.capacity);
  // 3000 due in 3 s, minus what piled up beyond the capacity during the stall.
  assert.ok(result.packets >= 3000 - 1000 && result.packets <= 3000 - 1000 + plan.capacity);
});

Deno.test("pace retries when send returns 0 (socket full) without losing packets", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const result = await pace({
    plan: pacingPlan(10_000),
    count: 1000,
    clock,
    onYield: resolved,
    send: (n) => {
      calls++;
      if (calls % 3 === 0) {
        clock.advance(50_000n); // waited for POLLOUT
        return 0;
      }
      return Math.max(1, n - 3); // partial sends
    },
  });
  assert.equal(result.packets, 1000);
});

Deno.test("pace unpaced (max) sends full batches and yields to the event loop", async () => {
  const clock = new FakeClock();
  let yields = 0;
  const sizes: number[] = [];
  const result = await pace({
    plan: pacingPlan(null, { maxBatch: 64 }),
    count: 5000,
    clock,
    yieldEveryNs: 1_000_000n,
    onYield: () => {
      yields++;
      return Promise.resolve();
    },
    send: (n) => {
      clock.advance(100_000n); // 0.1 ms per sendmmsg
      sizes.push(n);
      return n;
    },
  });
  assert.equal(result.packets, 5000);
  assert.equal(clock.sleeps, 0, "unpaced never sleeps");
  assert.deepEqual(sizes.slice(0, -1).every((n) => n === 64), true);
  assert.equal(sizes.at(-1), 5000 - 64 * 78);
  assert.ok(yields >= 7, `yielded ${yields} times`);
});

Deno.test("pace stops promptly on a signal, also during a long sleep", async () => {
  const controller = new AbortController();
  const clock = new FakeClock();
  const result = await pace({
    plan: pacingPlan(0.01), // one packet per 100 s
    signal: controller.signal,
    clock: {
      now: () => clock.now(),
      sleepUntil: (deadline) => {
        assert.ok(deadline - clock.now() <= 200_000_000n, "sleeps are capped for signals");
        if (clock.sleeps === 3) controller.abort();
        return clock.sleepUntil(deadline);
      },
    },
    onYield: resolved,
    send: (n) => n,
  });
  assert.equal(result.stoppedBy, "signal");
  assert.equal(result.packets, 1);
});

Deno.test("pace propagates a fatal send error", async () => {
  await assert.rejects(
    pace({
      plan: pacingPlan(100),
      count: 10,
      clock: new FakeClock(),
      onYield: resolved,
      send: () => {
        throw new Error("boom");
      },
    }),
    /boom/,
  );
});
