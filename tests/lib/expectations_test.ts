// Unit tests of the lab expectations of mcast-receive (lib/expectations.ts): pure evaluation of
// receiver statistics, over every packet.

import assert from "node:assert/strict";
import { evaluateExpectations, expectationsMet, hasExpectations } from "../../lib/expectations.ts";
import { ReceiverStats } from "../../lib/receiver_stats.ts";

/** One sender's stream: its id, source, and per packet the received TTL and DSCP. */
interface Stream {
  senderId?: bigint;
  source?: string;
  originalTtl?: number;
  originalDscp?: number;
  /** Received TTL and DSCP per packet, in order; null = not reported by the kernel. */
  packets: { ttl: number | null; dscp: number | null }[];
  /** Sequence numbers to leave out (lost). */
  skip?: number[];
  /** Sequence numbers to send twice (duplicates). */
  twice?: number[];
}

/** Statistics fed with the streams (sequence numbers 0, 1, 2 … per sender). */
function statsOf(...streams: Stream[]): ReceiverStats {
  const stats = new ReceiverStats();
  let now = 0n;
  for (const stream of streams) {
    let sequence = 0;
    for (const packet of stream.packets) {
      while (stream.skip?.includes(sequence)) sequence++;
      const times = stream.twice?.includes(sequence) ? 2 : 1;
      for (let t = 0; t < times; t++) {
        now += 1_000_000n;
        stats.record(
          {
            senderId: stream.senderId ?? 0xaan,
            sequence: BigInt(sequence),
            timestampNs: 0n,
            ttl: stream.originalTtl ?? 64,
            dscp: stream.originalDscp ?? 46,
          },
          {
            source: stream.source ?? "10.0.0.1",
            receivedTtl: packet.ttl,
            receivedDscp: packet.dscp,
            arrivalNs: now,
            bytes: 200,
          },
        );
      }
      sequence++;
    }
  }
  return stats;
}

/** `n` packets, all with the same received TTL and DSCP. */
function same(n: number, ttl: number | null = 63, dscp: number | null = 46) {
  return Array.from({ length: n }, () => ({ ttl, dscp }));
}

Deno.test("expectations: none given lists nothing and is met", () => {
  assert.equal(hasExpectations({}), false);
  assert.deepEqual(evaluateExpectations({}, statsOf({ packets: same(100) })), []);
  assert.equal(expectationsMet([]), true);
});

Deno.test("expectations: zero values still count as given", () => {
  assert.equal(hasExpectations({ minPackets: 0 }), true);
  assert.equal(hasExpectations({ maxLoss: 0 }), true);
  assert.equal(hasExpectations({ expectDscp: 0 }), true);
  assert.equal(hasExpectations({ expectHops: 0 }), true);
});

Deno.test("expectations: min-packets is met at exactly N and not below", () => {
  const hundred = statsOf({ packets: same(100) });
  const [met] = evaluateExpectations({ minPackets: 100 }, hundred);
  assert.deepEqual(met, {
    name: "min-packets",
    ok: true,
    detail: "100 MCAS packets received, expected at least 100",
  });
  const [unmet] = evaluateExpectations({ minPackets: 101 }, hundred);
  assert.equal(unmet.ok, false);
  assert.equal(expectationsMet([met, unmet]), false);
  const [one] = evaluateExpectations({ minPackets: 2 }, statsOf({ packets: same(1) }));
  assert.equal(one.detail, "1 MCAS packet received, expected at least 2");
});

Deno.test("expectations: max-loss uses lost / (lost + unique), duplicates not unique", () => {
  // 90 unique + 10 duplicates = 100 packets; 10 numbers left out → 10 / 100 = 10%.
  const skip = [10, 20, 30, 40, 50, 60, 70, 80, 85, 88];
  const twice = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11];
  const s = statsOf({ packets: same(90), skip, twice });
  assert.deepEqual(
    [s.totals().packets, s.totals().duplicates, s.totals().lost],
    [100, 10, 10],
  );
  assert.equal(evaluateExpectations({ maxLoss: 10 }, s)[0].ok, true);
  const [unmet] = evaluateExpectations({ maxLoss: 9.99 }, s);
  assert.equal(unmet.ok, false);
  assert.equal(unmet.name, "max-loss");
  assert.equal(unmet.detail, "loss 10% (10 of 100), expected at most 9.99%");
});

Deno.test("expectations: max-loss with nothing received is met and says so", () => {
  const [result] = evaluateExpectations({ maxLoss: 0 }, new ReceiverStats());
  assert.equal(result.ok, true);
  assert.match(result.detail, /nothing received/);
});

Deno.test("expectations: expect-dscp needs every packet of every sender to match", () => {
  const clean = { packets: same(100) };
  const ok = evaluateExpectations({ expectDscp: 46 }, statsOf(clean))[0];
  assert.deepEqual(ok, {
    name: "expect-dscp",
    ok: true,
    detail: "every packet of the one sender received EF",
  });
  const remarked = { senderId: 0xbbn, source: "10.0.0.2", packets: same(100, 63, 10) };
  const mixed = evaluateExpectations({ expectDscp: 46 }, statsOf(clean, remarked))[0];
  assert.equal(mixed.ok, false);
  assert.equal(
    mixed.detail,
    "expected EF for every packet: 00000000000000bb from 10.0.0.2 received AF11 ×100",
  );
  assert.equal(evaluateExpectations({ expectDscp: 10 }, statsOf(remarked))[0].ok, true);
  const unnamed = { originalDscp: 13, packets: same(5, 63, 13) };
  assert.equal(evaluateExpectations({ expectDscp: 13 }, statsOf(unnamed))[0].ok, true);
  const noTos = evaluateExpectations({ expectDscp: 46 }, statsOf({ packets: same(3, 63, null) }));
  assert.equal(noTos[0].ok, false);
  assert.match(noTos[0].detail, /nothing the kernel reported ×3/);
});

Deno.test("expectations: 90 remarked packets then 10 clean ones do not meet expect-dscp", () => {
  // The case: AF11 from 6 hops for 90 packets, then clean EF from 1 hop for 10.
  const path = { packets: [...same(90, 58, 10), ...same(10, 63, 46)] };
  const [dscp, hops] = evaluateExpectations({ expectDscp: 46, expectHops: 1 }, statsOf(path));
  assert.deepEqual(dscp, {
    name: "expect-dscp",
    ok: false,
    detail:
      "expected EF for every packet: 00000000000000aa from 10.0.0.1 received AF11 ×90, EF ×10",
  });
  assert.deepEqual(hops, {
    name: "expect-hops",
    ok: false,
    detail: "expected 1 hop for every packet: 00000000000000aa from 10.0.0.1 is 1 to 6 hops away",
  });
  // One packet the kernel gave no TOS for is enough to leave it unproven.
  const gap = statsOf({ packets: [...same(9), { ttl: 63, dscp: null }] });
  assert.equal(evaluateExpectations({ expectDscp: 46 }, gap)[0].ok, false);
});

Deno.test("expectations: expect-hops needs every packet of every sender N hops away", () => {
  assert.deepEqual(evaluateExpectations({ expectHops: 1 }, statsOf({ packets: same(10) }))[0], {
    name: "expect-hops",
    ok: true,
    detail: "every packet of the one sender 1 hop away",
  });
  const far = { senderId: 0xccn, packets: same(10, 60) };
  const two = evaluateExpectations({ expectHops: 1 }, statsOf({ packets: same(10) }, far))[0];
  assert.equal(two.ok, false);
  assert.equal(
    two.detail,
    "expected 1 hop for every packet: 00000000000000cc from 10.0.0.1 is 4 hops away",
  );
  const zero = evaluateExpectations({ expectHops: 0 }, statsOf({ packets: same(10) }))[0];
  assert.equal(zero.ok, false);
  const noTtl = statsOf({ packets: same(4, null) });
  assert.match(
    evaluateExpectations({ expectHops: 0 }, noTtl)[0].detail,
    /has no received TTL for 4 of 4 packets/,
  );
  const partly = statsOf({ packets: [...same(3), { ttl: null, dscp: 46 }] });
  assert.equal(
    evaluateExpectations({ expectHops: 1 }, partly)[0].detail,
    "expected 1 hop for every packet: 00000000000000aa from 10.0.0.1 is 1 hop away, " +
      "has no received TTL for 1 of 4 packets",
  );
});

Deno.test("expectations: no sender at all leaves expect-dscp and expect-hops unmet", () => {
  const results = evaluateExpectations({ expectDscp: 46, expectHops: 1 }, new ReceiverStats());
  assert.deepEqual(results.map((r) => [r.name, r.ok]), [
    ["expect-dscp", false],
    ["expect-hops", false],
  ]);
  assert.match(results[0].detail, /no sender seen/);
  assert.match(results[1].detail, /no sender seen/);
});

Deno.test("expectations: several groups are judged together", () => {
  const a = statsOf({ packets: same(10) });
  const b = statsOf({ senderId: 0xddn, packets: same(5, 63, 0) });
  const [min, dscp] = evaluateExpectations({ minPackets: 15, expectDscp: 46 }, [a, b]);
  assert.equal(min.ok, true);
  assert.equal(min.detail, "15 MCAS packets received, expected at least 15");
  assert.equal(dscp.ok, false);
  assert.match(dscp.detail, /00000000000000dd from 10\.0\.0\.1 received BE ×5/);
});

Deno.test("expectations: results come in flag order, only those given", () => {
  const results = evaluateExpectations(
    { expectHops: 1, minPackets: 1, expectDscp: 46, maxLoss: 5 },
    statsOf({ packets: same(10) }),
  );
  assert.deepEqual(results.map((r) => r.name), [
    "min-packets",
    "max-loss",
    "expect-dscp",
    "expect-hops",
  ]);
  assert.equal(expectationsMet(results), true);
});
