import assert from "node:assert/strict";
import { InvalidValueError } from "../../lib/errors.ts";
import {
  type Arrival,
  type McasFields,
  ReceiverStats,
  type ReceiverStatsOptions,
  type RecordVerdict,
} from "../../lib/receiver_stats.ts";

const MS = 1_000_000n;
const S = 1_000_000_000n;
const U64_MAX = 2n ** 64n - 1n;

/** A little driver: one reused header and arrival, like the hot path. */
class Feed {
  readonly stats: ReceiverStats;
  readonly header: McasFields = { senderId: 1n, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 0 };
  readonly arrival: Arrival = {
    source: "192.0.2.1",
    receivedTtl: 64,
    receivedDscp: 0,
    arrivalNs: 0n,
    bytes: 200,
  };

  constructor(options: ReceiverStatsOptions = {}) {
    this.stats = new ReceiverStats(options);
  }

  /** Sends sequences 1 ms apart (sender and arrival clocks in step: no jitter). */
  seq(...sequences: (number | bigint)[]): RecordVerdict[] {
    return sequences.map((sequence) => {
      this.header.sequence = BigInt(sequence);
      this.header.timestampNs += MS;
      this.arrival.arrivalNs += MS;
      return this.stats.record(this.header, this.arrival);
    });
  }

  sender(senderId: bigint, source = this.arrival.source): this {
    this.header.senderId = senderId;
    this.arrival.source = source;
    return this;
  }

  /** The one sender's JSON entry (or by index). */
  json(index = 0) {
    return this.stats.summary().senders[index];
  }
}

Deno.test("first packet starts a sender and the RECEIVING status", () => {
  const feed = new Feed();
  assert.equal(feed.stats.status, "WAITING");
  assert.deepEqual(feed.seq(7), ["first"]);
  assert.equal(feed.stats.status, "RECEIVING");
  const summary = feed.stats.summary();
  assert.deepEqual(summary.totals, {
    packets: 1,
    bytes: 200,
    lost: 0,
    loss_pct: 0,
    duplicates: 0,
    reordered: 0,
    restarts: 0,
    foreign: 0,
    stalls: 0,
    senders_evicted: 0,
  });
  assert.equal(summary.senders[0].sender_id, "0000000000000001");
  assert.equal(summary.senders[0].first_seq, 7);
  assert.equal(summary.senders[0].last_seq, 7);
  assert.equal(summary.senders[0].source, "192.0.2.1");
});

Deno.test("in-order stream counts nothing lost", () => {
  const feed = new Feed();
  feed.seq(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  const sender = feed.json();
  assert.equal(sender.packets, 10);
  assert.equal(sender.lost, 0);
  assert.equal(sender.reordered, 0);
  assert.equal(sender.duplicates, 0);
  assert.equal(sender.last_seq, 9);
});

Deno.test("a gap counts lost and late arrivals take numbers back out", () => {
  const feed = new Feed();
  assert.deepEqual(feed.seq(0, 1, 4), ["first", "next", "next"]);
  assert.equal(feed.json().lost, 2);
  assert.deepEqual(feed.seq(2), ["late"]);
  assert.equal(feed.json().lost, 1);
  assert.equal(feed.json().reordered, 1);
  assert.deepEqual(feed.seq(3), ["late"]);
  assert.equal(feed.json().lost, 0);
  assert.equal(feed.json().reordered, 2);
  assert.equal(feed.stats.totals().lossPercent, 0);
});

Deno.test("a swap is one reordered, nothing lost", () => {
  const feed = new Feed();
  assert.deepEqual(feed.seq(0, 2, 1, 3), ["first", "next", "late", "next"]);
  const sender = feed.json();
  assert.equal(sender.reordered, 1);
  assert.equal(sender.lost, 0);
  assert.equal(sender.packets, 4);
});

Deno.test("duplicates are counted in packets, not reordered, not unique", () => {
  const feed = new Feed();
  assert.deepEqual(feed.seq(0, 1, 1, 0, 1), [
    "first",
    "next",
    "duplicate",
    "duplicate",
    "duplicate",
  ]);
  const totals = feed.stats.totals();
  assert.equal(totals.packets, 5);
  assert.equal(totals.unique, 2);
  assert.equal(totals.duplicates, 3);
  assert.equal(totals.reordered, 0);
});

Deno.test("a late duplicate of a late arrival is a duplicate", () => {
  const feed = new Feed();
  feed.seq(0, 3, 1, 1, 2, 2);
  const sender = feed.json();
  assert.equal(sender.reordered, 2);
  assert.equal(sender.duplicates, 2);
  assert.equal(sender.lost, 0);
});

Deno.test("arrivals older than the window are stale duplicates and leave lost alone", () => {
  const feed = new Feed({ dupWindow: 64 });
  feed.seq(0);
  assert.deepEqual(feed.seq(200), ["next"]);
  assert.equal(feed.json().lost, 199);
  // 5 was counted lost but is now 195 below the highest: beyond the 64-number window.
  assert.deepEqual(feed.seq(5), ["stale"]);
  assert.equal(feed.json().lost, 199);
  assert.equal(feed.json().duplicates, 1);
  assert.equal(feed.json().reordered, 0);
  // Exactly at the window edge (highest − 63) is still inside, below it is not.
  assert.deepEqual(feed.seq(137), ["late"]);
  assert.deepEqual(feed.seq(136), ["stale"]);
  // A real duplicate far back is stale too.
  assert.deepEqual(feed.seq(0), ["stale"]);
  assert.equal(feed.json().lost, 198);
});

Deno.test("window wraps around its ring many times without false duplicates", () => {
  const feed = new Feed({ dupWindow: 64 });
  const verdicts = feed.seq(...Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(verdicts.filter((v) => v !== "next").length, 1); // the first
  // Skip forward by less than, exactly and more than the window.
  feed.seq(1000 + 40, 1040 + 64, 1104 + 100);
  assert.equal(feed.json().lost, 40 + 63 + 99); // 1000..1039, 1041..1103, 1105..1203
  assert.deepEqual(feed.seq(1204 - 63), ["late"]);
  assert.deepEqual(feed.seq(1204 - 63), ["duplicate"]);
  assert.deepEqual(feed.seq(1204), ["duplicate"]);
});

Deno.test("an arrival below the first sequence extends the range", () => {
  const feed = new Feed();
  feed.seq(10, 11);
  assert.deepEqual(feed.seq(8), ["late"]);
  let sender = feed.json();
  assert.equal(sender.first_seq, 8);
  assert.equal(sender.lost, 1); // 9
  assert.equal(sender.reordered, 1);
  feed.seq(9);
  sender = feed.json();
  assert.equal(sender.lost, 0);
  assert.equal(sender.reordered, 2);
});

Deno.test("a new sender id from a known source is a restart, sequence 0 again is fine", () => {
  const feed = new Feed();
  feed.sender(0xaaaan, "10.0.0.1").seq(0, 1, 2, 3, 4);
  assert.deepEqual(feed.sender(0xbbbbn, "10.0.0.1").seq(0, 1), ["first", "next"]);
  assert.deepEqual(feed.sender(0xccccn, "10.0.0.2").seq(0), ["first"]);
  const summary = feed.stats.summary();
  assert.equal(summary.totals.restarts, 1);
  assert.equal(summary.senders.length, 3);
  assert.deepEqual(
    summary.senders.map((s) => [s.sender_id, s.packets, s.lost, s.first_seq, s.last_seq]),
    [
      ["000000000000aaaa", 5, 0, 0, 4],
      ["000000000000bbbb", 2, 0, 0, 1],
      ["000000000000cccc", 1, 0, 0, 0],
    ],
  );
  // The old sender coming back is not a new sender.
  assert.deepEqual(feed.sender(0xaaaan, "10.0.0.1").seq(5), ["next"]);
  assert.equal(feed.stats.totals().restarts, 1);
});

Deno.test("foreign datagrams are counted apart and do not start RECEIVING", () => {
  const feed = new Feed();
  feed.stats.recordForeign(1316);
  feed.stats.recordForeign(20);
  assert.equal(feed.stats.status, "WAITING");
  const totals = feed.stats.totals();
  assert.equal(totals.foreign, 2);
  assert.equal(totals.foreignBytes, 1336);
  assert.equal(totals.packets, 0);
  assert.equal(feed.stats.summary().totals.foreign, 2);
});

Deno.test("u64 extremes stay exact and JSON-valid", () => {
  const feed = new Feed();
  assert.deepEqual(feed.seq(U64_MAX), ["first"]);
  let sender = feed.json();
  assert.equal(sender.first_seq, "18446744073709551615");
  assert.equal(sender.last_seq, "18446744073709551615");
  // No wrap-around: 0 after 2^64 − 1 is an absurd jump, a new epoch, not a loss of 2^64.
  assert.deepEqual(feed.seq(0), ["jump"]);
  sender = feed.json();
  assert.equal(sender.lost, 0);
  assert.equal(sender.first_seq, 0);
  assert.equal(feed.stats.totals().jumps, 1);
  // The safe-integer boundary: 2^53 − 1 is a number, 2^53 a string.
  const edge = new Feed();
  edge.seq(2n ** 53n - 1n);
  assert.equal(edge.json().last_seq, Number.MAX_SAFE_INTEGER);
  edge.seq(2n ** 53n);
  assert.equal(edge.json().first_seq, Number.MAX_SAFE_INTEGER);
  assert.equal(edge.json().last_seq, "9007199254740992");
  assert.equal(edge.json().lost, 0);
});

Deno.test("a jump of 2^63 is a new epoch, and the sender carries on from there", () => {
  const feed = new Feed();
  feed.seq(0, 1, 2, 3, 4, 5);
  assert.deepEqual(feed.seq(2n ** 63n), ["jump"]);
  assert.deepEqual(feed.seq(2n ** 63n + 1n, 2n ** 63n + 3n), ["next", "next"]);
  let sender = feed.json();
  assert.equal(sender.lost, 1);
  assert.equal(sender.first_seq, "9223372036854775808");
  assert.equal(sender.last_seq, "9223372036854775811");
  // Back down to 6: another jump (a stray), still finite.
  assert.deepEqual(feed.seq(6), ["jump"]);
  sender = feed.json();
  assert.equal(sender.lost, 1);
  assert.equal(sender.packets, 10);
  const totals = feed.stats.totals();
  assert.equal(totals.jumps, 2);
  assert.equal(totals.unique, 10);
  const text = JSON.stringify(feed.stats);
  assert.deepEqual(JSON.parse(text), feed.stats.summary());
});

Deno.test("maxSequenceJump is the line between loss and a new epoch", () => {
  const within = new Feed({ dupWindow: 64, maxSequenceJump: 1000 });
  assert.deepEqual(within.seq(0, 1000), ["first", "next"]);
  assert.equal(within.json().lost, 999);
  const beyond = new Feed({ dupWindow: 64, maxSequenceJump: 1000 });
  assert.deepEqual(beyond.seq(0, 1001), ["first", "jump"]);
  assert.equal(beyond.json().lost, 0);
  // Backwards: within the jump limit but beyond the window is stale, beyond the limit a jump.
  const back = new Feed({ dupWindow: 64, maxSequenceJump: 1000 });
  back.seq(5000);
  assert.deepEqual(back.seq(4000, 3999), ["stale", "jump"]);
});

Deno.test("status goes WAITING → RECEIVING → STALLED → RECEIVING with an injected clock", () => {
  const epoch = 1_700_000_000n * S; // 2023-11-14T22:13:20Z
  const feed = new Feed({ stallTimeoutS: 3, epochOffsetNs: epoch });
  const { stats, arrival } = feed;
  assert.equal(stats.tick(10n * S), "WAITING");
  arrival.arrivalNs = 10n * S - MS; // seq() adds 1 ms
  feed.seq(0);
  assert.equal(stats.status, "RECEIVING");
  assert.equal(stats.tick(12n * S + 999n * MS), "RECEIVING");
  assert.equal(stats.tick(13n * S), "STALLED");
  assert.equal(stats.totals().stalls, 1);
  assert.deepEqual(stats.gaps(), [{ startedNs: 10n * S, durationNs: 3n * S, ongoing: true }]);
  assert.equal(stats.tick(15n * S), "STALLED");
  assert.equal(stats.totals().stalls, 1);
  assert.deepEqual(stats.summary().gaps, [
    { started_at: "2023-11-14T22:13:30.000Z", duration_s: 5 },
  ]);
  arrival.arrivalNs = 16n * S + 499n * MS;
  feed.seq(1);
  assert.equal(stats.status, "RECEIVING");
  assert.deepEqual(stats.gaps(), [{ startedNs: 10n * S, durationNs: 6500n * MS, ongoing: false }]);
  // A later tick does not stretch a closed gap.
  stats.tick(17n * S);
  assert.deepEqual(stats.summary().gaps, [
    { started_at: "2023-11-14T22:13:30.000Z", duration_s: 6.5 },
  ]);
  assert.equal(stats.summary().status, "RECEIVING");
});

Deno.test("a silence no tick saw still counts as a stall when packets resume", () => {
  const feed = new Feed({ stallTimeoutS: 1 });
  feed.seq(0);
  feed.arrival.arrivalNs += 10n * S;
  feed.seq(1);
  assert.equal(feed.stats.totals().stalls, 1);
  const [gap] = feed.stats.gaps();
  assert.equal(gap.durationNs, 10n * S + MS);
  assert.equal(gap.ongoing, false);
  // A silence just under the timeout is no stall.
  feed.arrival.arrivalNs += S - 2n * MS;
  feed.seq(2);
  assert.equal(feed.stats.totals().stalls, 1);
});

Deno.test("the gap log keeps the last maxGaps, stalls counts them all", () => {
  const feed = new Feed({ stallTimeoutS: 1, maxGaps: 3 });
  feed.seq(0);
  for (let i = 1; i <= 5; i++) {
    feed.arrival.arrivalNs += BigInt(i) * S;
    feed.seq(i);
  }
  assert.equal(feed.stats.totals().stalls, 5);
  const gaps = feed.stats.gaps();
  assert.equal(gaps.length, 3);
  assert.deepEqual(gaps.map((g) => g.durationNs), [3n * S + MS, 4n * S + MS, 5n * S + MS]);
});

Deno.test("hops and DSCP remarking", () => {
  const feed = new Feed();
  feed.header.ttl = 64;
  feed.header.dscp = 46;
  feed.arrival.receivedTtl = 60;
  feed.arrival.receivedDscp = 0;
  feed.seq(0);
  let sender = feed.json();
  assert.deepEqual(sender.ttl, {
    received: 60,
    original: 64,
    hops: 4,
    min: 60,
    max: 60,
    changes: 0,
  });
  assert.deepEqual(sender.dscp, {
    received: "be",
    original: "ef",
    remarked: true,
    remarked_packets: 1,
    seen: { be: 1 },
  });
  // A clean packet after a remarked one: the stream was remarked all the same.
  feed.arrival.receivedDscp = 46;
  feed.arrival.receivedTtl = 63;
  feed.seq(1);
  sender = feed.json();
  assert.deepEqual(sender.ttl, {
    received: 63,
    original: 64,
    hops: 1,
    min: 60,
    max: 63,
    changes: 1,
  });
  assert.deepEqual(sender.dscp, {
    received: "ef",
    original: "ef",
    remarked: true,
    remarked_packets: 1,
    seen: { be: 1, ef: 1 },
  });
  // Unknown received values: the last packet's are unknown, the stream's figures stay.
  feed.arrival.receivedTtl = null;
  feed.arrival.receivedDscp = null;
  feed.seq(2);
  sender = feed.json();
  assert.deepEqual(sender.ttl, {
    received: null,
    original: 64,
    hops: null,
    min: 60,
    max: 63,
    changes: 1,
  });
  assert.deepEqual(sender.dscp, {
    received: null,
    original: "ef",
    remarked: true,
    remarked_packets: 1,
    seen: { be: 1, ef: 1 },
  });
  // Unnamed and out-of-range values stay numbers.
  feed.header.dscp = 200;
  feed.arrival.receivedDscp = 13;
  feed.seq(3);
  assert.deepEqual(feed.json().dscp, {
    received: 13,
    original: 200,
    remarked: true,
    remarked_packets: 2,
    seen: { be: 1, ef: 1, 13: 1 },
  });
  // Only known values count: a stream of unknown DSCPs is neither remarked nor preserved.
  const blind = new Feed();
  blind.arrival.receivedDscp = null;
  blind.seq(0, 1);
  assert.equal(blind.json().dscp.remarked, null);
  assert.deepEqual(blind.json().dscp.seen, {});
});

Deno.test("TTL changes count every change from one packet to the next", () => {
  // The case: 90 packets remarked AF11 from 6 hops, then 10 clean EF from 1 hop.
  const feed = new Feed();
  feed.header.ttl = 64;
  feed.header.dscp = 46;
  feed.arrival.receivedTtl = 58;
  feed.arrival.receivedDscp = 10;
  for (let i = 0; i < 90; i++) feed.seq(i);
  feed.arrival.receivedTtl = 63;
  feed.arrival.receivedDscp = 46;
  for (let i = 90; i < 100; i++) feed.seq(i);
  const sender = feed.json();
  assert.deepEqual(sender.ttl, {
    received: 63,
    original: 64,
    hops: 1,
    min: 58,
    max: 63,
    changes: 1,
  });
  assert.deepEqual(sender.dscp, {
    received: "ef",
    original: "ef",
    remarked: true,
    remarked_packets: 90,
    seen: { af11: 90, ef: 10 },
  });
  const [snapshot] = feed.stats.senders();
  assert.deepEqual([snapshot.hopsMin, snapshot.hopsMax], [1, 6]);
  // Back and forth: 58, 63, 58, 63 is three changes.
  const flap = new Feed();
  for (const [i, ttl] of [58, 63, 58, 63].entries()) {
    flap.arrival.receivedTtl = ttl;
    flap.seq(i);
  }
  assert.equal(flap.json().ttl.changes, 3);
});

Deno.test("jitter follows RFC 3550 against a hand-computed value", () => {
  const stats = new ReceiverStats();
  const header = { senderId: 5n, sequence: 0n, timestampNs: 0n, ttl: 1, dscp: 0 };
  const arrival = { source: "::1", receivedTtl: 1, receivedDscp: 0, arrivalNs: 0n, bytes: 32 };
  // Sender every 20 ms; arrivals 100, 125, 140, 170 ms → transits 100, 105, 100, 110 ms.
  // D = 5, 5, 10 ms. J = 5/16 = 0.3125; + (5 − 0.3125)/16 = 0.60546875;
  // + (10 − 0.60546875)/16 = 1.192626953125 ms.
  const sent = [0n, 20n, 40n, 60n];
  const received = [100n, 125n, 140n, 170n];
  for (let i = 0; i < 4; i++) {
    header.sequence = BigInt(i);
    header.timestampNs = sent[i] * MS;
    arrival.arrivalNs = received[i] * MS;
    stats.record(header, arrival);
    if (i === 1) stats.record(header, arrival); // a duplicate does not move the jitter
  }
  const [sender] = stats.senders();
  assert.ok(Math.abs(sender.jitterMs - 1.192626953125) < 1e-9, `${sender.jitterMs}`);
  assert.equal(stats.summary().senders[0].jitter_ms, 1.193);
  assert.equal(sender.latencyMs, null);
});

Deno.test("one-way latency with a shared clock", () => {
  const stats = new ReceiverStats({ sharedClock: true });
  const header = { senderId: 5n, sequence: 0n, timestampNs: 0n, ttl: 1, dscp: 0 };
  const arrival = { source: "::1", receivedTtl: 1, receivedDscp: 0, arrivalNs: 0n, bytes: 32 };
  for (const [i, latency] of [[0, 2], [1, 4], [2, 3]]) {
    header.sequence = BigInt(i);
    header.timestampNs = BigInt(i) * S;
    arrival.arrivalNs = header.timestampNs + BigInt(latency) * MS;
    stats.record(header, arrival);
  }
  assert.deepEqual(stats.senders()[0].latencyMs, { min: 2, avg: 3, max: 4 });
});

Deno.test("a scripted stream gives exactly the known counts", () => {
  // Sent 0..19. Dropped for good: 6, 13, 14. Late: 3 (after 5), 9 (after 11).
  // Duplicated: 7 (twice more), 12 (once, late). Swapped: 16/15.
  const stream = [0, 1, 2, 4, 5, 3, 7, 7, 8, 10, 11, 9, 12, 7, 16, 15, 17, 12, 18, 19];
  const feed = new Feed();
  feed.seq(...stream);
  const sender = feed.json();
  assert.equal(sender.packets, 20);
  assert.equal(sender.duplicates, 3);
  assert.equal(sender.reordered, 3); // 3, 9, 15
  assert.equal(sender.lost, 3); // 6, 13, 14
  assert.equal(sender.first_seq, 0);
  assert.equal(sender.last_seq, 19);
  const totals = feed.stats.totals();
  assert.equal(totals.unique, 17);
  assert.equal(totals.lossPercent, 3 / 20 * 100);
});

Deno.test("the worked example of docs/receiver.md", () => {
  const feed = new Feed();
  feed.sender(0xa1n, "10.0.0.1").seq(0, 1, 2, 5, 3, 3, 7);
  feed.sender(0xb2n, "10.0.0.1").seq(0, 1);
  feed.stats.recordForeign(100);
  const summary = feed.stats.summary();
  assert.deepEqual(summary.totals, {
    packets: 9,
    bytes: 1800,
    lost: 2,
    loss_pct: 20, // 2 lost of 2 + 8 unique (6 from the first sender id, 2 from the second)
    duplicates: 1,
    reordered: 1,
    restarts: 1,
    foreign: 1,
    stalls: 0,
    senders_evicted: 0,
  });
  assert.deepEqual(
    summary.senders.map((s) => [s.packets, s.lost, s.duplicates, s.reordered, s.last_seq]),
    [[7, 2, 1, 1, 7], [2, 0, 0, 0, 1]],
  );
});

Deno.test("random streams agree with an unbounded reference model", () => {
  const random = mulberry32(42);
  for (let round = 0; round < 20; round++) {
    const feed = new Feed({ dupWindow: 1024 });
    const seen = new Set<number>();
    let low = Infinity;
    let high = -Infinity;
    let duplicates = 0;
    let reordered = 0;
    let next = 0;
    for (let i = 0; i < 2000; i++) {
      // Mostly forward with loss, sometimes late (within the window) or repeated.
      const r = random();
      let sequence: number;
      if (r < 0.1 && next > 0) sequence = Math.max(0, next - 1 - Math.floor(random() * 500));
      else sequence = next + (r < 0.2 ? Math.floor(random() * 5) : 0);
      if (sequence >= next) next = sequence + 1;
      if (seen.has(sequence)) duplicates++;
      else if (sequence < high) reordered++;
      seen.add(sequence);
      low = Math.min(low, sequence);
      high = Math.max(high, sequence);
      feed.seq(sequence);
    }
    const sender = feed.json();
    assert.equal(sender.duplicates, duplicates);
    assert.equal(sender.reordered, reordered);
    assert.equal(sender.lost, high - low + 1 - seen.size);
    assert.equal(sender.first_seq, low);
    assert.equal(sender.last_seq, high);
  }
});

Deno.test("10k random sender ids keep the table within maxSenders", () => {
  const random = mulberry32(7);
  const stats = new ReceiverStats({ maxSenders: 1024 });
  const header = { senderId: 0n, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 0 };
  const arrival = {
    source: "",
    receivedTtl: 64,
    receivedDscp: 0,
    arrivalNs: 0n,
    bytes: 32,
  };
  const ids = new Set<bigint>();
  while (ids.size < 10_000) {
    ids.add(
      (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)),
    );
  }
  let i = 0;
  for (const id of ids) {
    header.senderId = id;
    header.sequence = BigInt(Math.floor(random() * 2 ** 32)) * 2n ** 32n;
    arrival.source = `10.0.${(i >> 8) & 255}.${i & 255}`;
    arrival.arrivalNs += MS;
    stats.record(header, arrival);
    i++;
  }
  assert.equal(stats.senderCount, 1024);
  const totals = stats.totals();
  assert.equal(totals.evictedSenders, 10_000 - 1024);
  assert.equal(totals.packets, 10_000);
  assert.equal(totals.restarts, 0);
  // The most recent sender ids are the ones kept.
  const kept = new Set(stats.senders().map((s) => s.senderId));
  assert.ok([...ids].slice(-1024).every((id) => kept.has(id)));
  // Bound: 1024 × (65536 / 8 bytes of window) = 8 MiB of windows, whatever arrives.
  assert.equal(stats.summary().senders.length, 1024);
});

Deno.test("fuzz: any field values keep every figure finite and JSON-valid", () => {
  const random = mulberry32(1234);
  const stats = new ReceiverStats({ maxSenders: 16, maxGaps: 4, stallTimeoutS: 0.001 });
  const header = { senderId: 0n, sequence: 0n, timestampNs: 0n, ttl: 0, dscp: 0 };
  const arrival = {
    source: "",
    receivedTtl: 0 as number | null,
    receivedDscp: 0 as number | null,
    arrivalNs: 0n,
    bytes: 0,
  };
  const u64 = () => BigInt.asUintN(64, BigInt(Math.floor(random() * 2 ** 53)) << 11n);
  const pick = () => {
    const r = random();
    if (r < 0.2) return U64_MAX;
    if (r < 0.3) return 0n;
    if (r < 0.4) return 2n ** 63n;
    return r < 0.7 ? BigInt(Math.floor(random() * 100)) : u64();
  };
  for (let i = 0; i < 20_000; i++) {
    header.senderId = BigInt(Math.floor(random() * 40));
    header.sequence = pick();
    header.timestampNs = pick();
    header.ttl = Math.floor(random() * 256);
    header.dscp = Math.floor(random() * 256);
    arrival.source = `10.0.0.${Math.floor(random() * 8)}`;
    arrival.receivedTtl = random() < 0.1 ? null : Math.floor(random() * 256);
    arrival.receivedDscp = random() < 0.1 ? null : Math.floor(random() * 64);
    arrival.arrivalNs = random() < 0.05 ? arrival.arrivalNs - S : arrival.arrivalNs + pick() % S;
    arrival.bytes = 32 + Math.floor(random() * 1000);
    stats.record(header, arrival);
    if (i % 100 === 0) stats.tick(arrival.arrivalNs + 5n * MS);
    if (i % 7 === 0) stats.recordForeign(3);
  }
  assert.ok(stats.senderCount <= 16);
  assert.ok(stats.gaps().length <= 4);
  const text = JSON.stringify(stats);
  assert.doesNotMatch(text, /NaN|Infinity/);
  const parsed = JSON.parse(text);
  for (const sender of parsed.senders) {
    assert.ok(sender.lost >= 0 && sender.duplicates >= 0 && sender.reordered >= 0);
    assert.ok(Number.isFinite(sender.jitter_ms));
    assert.match(sender.sender_id, /^[0-9a-f]{16}$/);
  }
  const totals = stats.totals();
  for (const value of Object.values(totals)) assert.ok(Number.isFinite(value));
  assert.ok(totals.lost >= 0);
  assert.equal(totals.packets, 20_000);
});

Deno.test("options are validated", () => {
  assert.throws(() => new ReceiverStats({ dupWindow: 100 }), InvalidValueError);
  assert.throws(() => new ReceiverStats({ dupWindow: 32 }), InvalidValueError);
  assert.throws(() => new ReceiverStats({ stallTimeoutS: 0 }), InvalidValueError);
  assert.throws(() => new ReceiverStats({ stallTimeoutS: NaN }), InvalidValueError);
  assert.throws(() => new ReceiverStats({ maxSenders: 0 }), InvalidValueError);
  assert.throws(() => new ReceiverStats({ maxGaps: -1 }), InvalidValueError);
  assert.throws(
    () => new ReceiverStats({ dupWindow: 4096, maxSequenceJump: 100 }),
    /Invalid max sequence jump: 100 \(expected an integer from the dup window \(4096\) to 2\^52\)/,
  );
  new ReceiverStats({ maxGaps: 0, maxSenders: 1, dupWindow: 64, maxSequenceJump: 64 });
});

Deno.test("maxGaps 0 keeps no gaps but still counts stalls; maxSenders 1 evicts", () => {
  const feed = new Feed({ maxGaps: 0, maxSenders: 1, stallTimeoutS: 1 });
  feed.sender(1n, "a").seq(0);
  feed.arrival.arrivalNs += 2n * S;
  feed.sender(2n, "b").seq(0);
  assert.equal(feed.stats.gaps().length, 0);
  assert.equal(feed.stats.totals().stalls, 1);
  assert.equal(feed.stats.senderCount, 1);
  assert.equal(feed.stats.totals().evictedSenders, 1);
  assert.equal(feed.json().sender_id, "0000000000000002");
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("memory stays within the documented bound for 30k random sender ids", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc !== undefined, "run with --v8-flags=--expose-gc (deno task test does)");
  const used = () => {
    gc();
    const usage = Deno.memoryUsage();
    return usage.heapUsed + usage.external;
  };
  const random = mulberry32(11);
  const header = { senderId: 0n, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 0 };
  const arrival = { source: "", receivedTtl: 64, receivedDscp: 0, arrivalNs: 0n, bytes: 32 };
  const feed = (stats: ReceiverStats, n: number) => {
    for (let i = 0; i < n; i++) {
      header.senderId = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) |
        BigInt(Math.floor(random() * 2 ** 32));
      header.sequence = BigInt(Math.floor(random() * 2 ** 32));
      arrival.source = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      arrival.arrivalNs += MS;
      stats.record(header, arrival);
    }
  };
  const before = used();
  const stats = new ReceiverStats();
  feed(stats, 10_000);
  const afterFirst = used();
  // docs/receiver.md: at most maxSenders × (dupWindow / 8 + ~600) bytes ≈ 8.6 MiB by default (the
  // duplicate window, and 256 bytes of DSCP histogram with the other per-sender figures);
  // allow for the source table and V8's own overhead, but not for growth with the input.
  const bound = 1024 * (65536 / 8 + 600);
  assert.ok(afterFirst - before < bound * 1.5, `grew by ${afterFirst - before} bytes`);
  feed(stats, 20_000);
  const afterThird = used();
  assert.ok(
    afterThird - afterFirst < 1024 * 1024,
    `another 20k senders grew memory by ${afterThird - afterFirst} bytes`,
  );
  assert.equal(stats.senderCount, 1024);
  assert.equal(stats.totals().evictedSenders, 30_000 - 1024);
});
