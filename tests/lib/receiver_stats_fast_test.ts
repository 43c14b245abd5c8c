// ReceiverStats.recordFast (the batch recorder's bigint-free path) must count every datagram
// exactly as record() does: the same stream goes into one statistics object through record()
// only and into another through recordFast() where it accepts and record() where it refuses;
// totals, senders, gaps and the contract's JSON must be identical, at the 2^32 and 2^53
// sequence boundaries, with reorder, duplicates, loss, stalls, several senders, a shared clock.

import assert from "node:assert/strict";
import { type FastDatagram, ReceiverStats } from "../../lib/receiver_stats.ts";
import type { ReceiverStatsOptions } from "../../lib/receiver_stats.ts";

interface Packet {
  senderId: bigint;
  sequence: bigint;
  sendNs: bigint;
  arrivalNs: bigint;
  ttl?: number | null;
  dscp?: number | null;
}

function feedBoth(packets: Packet[], options: ReceiverStatsOptions, ticks: bigint[] = []) {
  const slow = new ReceiverStats(options);
  const fast = new ReceiverStats(options);
  let fastCount = 0;
  let base: bigint | null = null;
  const fastDatagram: FastDatagram = {
    idHigh: 0,
    idLow: 0,
    sequence: 0,
    sendNs: 0,
    arrivalRel: 0,
    bytes: 0,
    ttl: 0,
    dscp: 0,
    receivedTtl: null,
    receivedDscp: null,
  };
  packets.forEach((p, i) => {
    const header = {
      senderId: p.senderId,
      sequence: p.sequence,
      timestampNs: p.sendNs,
      ttl: 64,
      dscp: 46,
    };
    const arrival = {
      source: `10.0.0.${Number(p.senderId % 200n) + 1}`,
      receivedTtl: p.ttl === undefined ? 60 : p.ttl,
      receivedDscp: p.dscp === undefined ? 46 : p.dscp,
      arrivalNs: p.arrivalNs,
      bytes: 200,
    };
    const verdict = slow.record(header, arrival);
    base ??= fast.timeBaseNs(p.arrivalNs);
    const rel = p.arrivalNs - base;
    let done = false;
    if (
      p.sequence < 2n ** 53n && p.sendNs <= 2n ** 52n && rel <= 2n ** 51n && rel >= -(2n ** 51n)
    ) {
      Object.assign(fastDatagram, {
        idHigh: Number(p.senderId >> 32n),
        idLow: Number(p.senderId & 0xffff_ffffn),
        sequence: Number(p.sequence),
        sendNs: Number(p.sendNs),
        arrivalRel: Number(rel),
        bytes: 200,
        ttl: 64,
        dscp: 46,
        receivedTtl: arrival.receivedTtl,
        receivedDscp: arrival.receivedDscp,
      });
      done = fast.recordFast(fastDatagram);
      if (done) {
        fastCount++;
        assert.equal(verdict, "next", `packet ${i}: only "next" datagrams go fast`);
      }
    }
    if (!done) assert.equal(fast.record(header, arrival), verdict, `packet ${i}`);
    if (ticks[i] !== undefined) assert.equal(fast.tick(ticks[i]), slow.tick(ticks[i]));
  });
  assert.deepEqual(fast.totals(), slow.totals());
  assert.deepEqual(fast.senders(), slow.senders());
  assert.deepEqual(fast.gaps(), slow.gaps());
  assert.equal(JSON.stringify(fast), JSON.stringify(slow));
  return { fastCount, slow, fast };
}

function stream(senderId: bigint, first: bigint, n: number, startNs: bigint, stepNs = 2_500n) {
  return Array.from({ length: n }, (_, i) => ({
    senderId,
    sequence: first + BigInt(i),
    sendNs: startNs + BigInt(i) * stepNs,
    arrivalNs: 1_795_462_333_000_000_000n + BigInt(i) * stepNs + 37n * BigInt(i % 7),
  }));
}

Deno.test("recordFast equals record across the 2^32 sequence boundary", () => {
  const packets = stream(0xdead_beef_0000_0001n, 2n ** 32n - 50n, 100, 5_000_000n);
  const { fastCount } = feedBoth(packets, {});
  assert.equal(fastCount, 99); // all but the first (a new sender takes record())
});

Deno.test("recordFast equals record across 2^53: fast below, bigint at and above, and back", () => {
  const packets = stream(0xffff_ffff_ffff_ffffn, 2n ** 53n - 20n, 40, 1_000n);
  // A sender that jumps back below 2^53 (a new epoch) returns to the fast path.
  packets.push(
    ...stream(0xffff_ffff_ffff_ffffn, 5n, 10, 200_000n).map((p) => ({
      ...p,
      arrivalNs: p.arrivalNs + 1_000_000n,
    })),
  );
  const { fastCount, fast } = feedBoth(packets, {});
  assert.equal(fastCount, 19 + 9);
  assert.equal(fast.summary().senders[0].last_seq, 14);
});

Deno.test("recordFast equals record for send clocks at 2^52 and far above", () => {
  const below = stream(7n, 0n, 30, 2n ** 52n - 40_000n);
  const above = stream(8n, 0n, 30, 2n ** 63n + 12_345n);
  const { fastCount } = feedBoth([...below, ...above], {});
  assert.equal(fastCount, 16); // packets 1 to 16 (2^52 − 40000 + 16 × 2500 = 2^52) go fast
});

Deno.test("recordFast equals record with loss, reorder, duplicates, stale and jumps", () => {
  const base = stream(3n, 1_000n, 400, 0n);
  const messy: Packet[] = [];
  for (let i = 0; i < base.length; i++) {
    if (i % 17 === 5) continue; // lost
    if (i % 23 === 7) messy.push(base[i], base[i]); // duplicate
    else if (i % 11 === 3 && i > 0) messy.push(base[i], base[i - 1]); // reordered pair, dup
    else messy.push(base[i]);
  }
  messy.push({ ...base[0], arrivalNs: base[399].arrivalNs + 1n }); // stale
  messy.push({ ...base[399], sequence: 10n ** 12n, arrivalNs: base[399].arrivalNs + 2n }); // jump
  messy.push({ ...base[399], sequence: 10n ** 12n + 3n, arrivalNs: base[399].arrivalNs + 3n });
  const { fastCount, slow } = feedBoth(messy, { dupWindow: 64 });
  assert.ok(fastCount > 200);
  assert.ok(slow.totals().lost > 0 && slow.totals().reordered > 0);
  assert.ok(slow.totals().duplicates > 0 && slow.totals().jumps === 1);
});

Deno.test("recordFast equals record for interleaved senders, unknown TTL/DSCP and eviction", () => {
  const packets: Packet[] = [];
  for (let i = 0; i < 300; i++) {
    const id = BigInt(i % 5) * 0x1_0000_0000n + 0xabcn; // same low halves, other high halves
    packets.push({
      senderId: id,
      sequence: BigInt(Math.floor(i / 5)),
      sendNs: BigInt(i) * 1_000n,
      arrivalNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000n,
      ttl: i % 9 === 0 ? null : 60 - (i % 3),
      dscp: i % 13 === 0 ? null : 46 - (i % 2) * 46,
    });
  }
  feedBoth(packets, {});
  feedBoth(packets, { maxSenders: 3 }); // evictions reuse entries; the fast lookup must follow
});

Deno.test("recordFast equals record through stalls, ticks and a clock stepping back", () => {
  const packets = stream(9n, 0n, 60, 0n, 100_000_000n); // 10 pps
  packets[30] = { ...packets[30], arrivalNs: packets[30].arrivalNs + 5_000_000_000n }; // a stall
  packets[40] = { ...packets[40], arrivalNs: packets[10].arrivalNs }; // clock back
  const ticks: bigint[] = [];
  ticks[20] = packets[20].arrivalNs + 4_000_000_000n; // a tick sees a stall, then arrivals end it
  const { slow } = feedBoth(packets, { stallTimeoutS: 3 }, ticks);
  assert.equal(slow.totals().stalls, 2);
});

Deno.test("recordFast equals record with a shared clock (latency exact as numbers)", () => {
  const packets = stream(11n, 0n, 200, 3_000_000_000_000n).map((p, i) => ({
    ...p,
    arrivalNs: p.sendNs + 150_000n + BigInt((i * 7919) % 10_000),
  }));
  const { fastCount, slow } = feedBoth(packets, { sharedClock: true });
  assert.equal(fastCount, 199);
  assert.ok(slow.senders()[0].latencyMs !== null);
});
