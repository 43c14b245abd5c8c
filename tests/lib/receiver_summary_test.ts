// Unit tests of the `mcast-receive --json` shapes (lib/receiver_summary.ts): key names, u64 and
// DSCP values, dates and rounding, built from a ReceiverStats.

import assert from "node:assert/strict";
import { type Arrival, type McasFields, ReceiverStats } from "../../lib/receiver_stats.ts";
import { summarizeReceiver } from "../../lib/receiver_summary.ts";

const MS = 1_000_000n;
const S = 1_000_000_000n;

function arrival(overrides: Partial<Arrival> = {}): Arrival {
  return {
    source: "192.0.2.7",
    receivedTtl: 61,
    receivedDscp: 46,
    arrivalNs: 0n,
    bytes: 200,
    ...overrides,
  };
}

function header(overrides: Partial<McasFields> = {}): McasFields {
  return { senderId: 0x1234n, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 46, ...overrides };
}

Deno.test("summarizeReceiver gives what summary() and toJSON() give, keys in the contract's order", () => {
  const stats = new ReceiverStats({ stallTimeoutS: 1 });
  for (const sequence of [0n, 1n, 3n, 3n]) {
    stats.record(header({ sequence }), arrival({ arrivalNs: sequence * 10n * MS }));
  }
  stats.recordForeign(12);
  const summary = summarizeReceiver(stats);
  assert.deepEqual(summary, stats.summary());
  assert.deepEqual(JSON.parse(JSON.stringify(stats)), JSON.parse(JSON.stringify(summary)));
  assert.deepEqual(Object.keys(summary), ["status", "totals", "senders", "gaps"]);
  assert.deepEqual(Object.keys(summary.totals), [
    "packets",
    "bytes",
    "lost",
    "loss_pct",
    "duplicates",
    "reordered",
    "restarts",
    "foreign",
    "stalls",
    "senders_evicted",
  ]);
  assert.deepEqual(summary.totals, {
    packets: 4,
    bytes: 800,
    lost: 1,
    loss_pct: 25,
    duplicates: 1,
    reordered: 0,
    restarts: 0,
    foreign: 1,
    stalls: 0,
    senders_evicted: 0,
  });
  assert.deepEqual(Object.keys(summary.senders[0]), [
    "sender_id",
    "source",
    "packets",
    "lost",
    "loss_pct",
    "duplicates",
    "reordered",
    "first_seq",
    "last_seq",
    "rate_pps",
    "ttl",
    "dscp",
    "jitter_ms",
  ]);
  assert.deepEqual(summary.senders, [{
    sender_id: "0000000000001234",
    source: "192.0.2.7",
    packets: 4,
    lost: 1,
    loss_pct: 25,
    duplicates: 1,
    reordered: 0,
    first_seq: 0,
    last_seq: 3,
    // 4 datagrams arrived over 30 ms (at 0, 10, 30 and 30 ms): 3 intervals in 0.03 s.
    rate_pps: 100,
    ttl: { received: 61, original: 64, hops: 3, min: 61, max: 61, changes: 0 },
    dscp: { received: "ef", original: "ef", remarked: false, remarked_packets: 0, seen: { ef: 4 } },
    jitter_ms: summary.senders[0].jitter_ms,
  }]);
});

Deno.test("DSCP values without a name stay numbers, unknown ones null", () => {
  const stats = new ReceiverStats();
  stats.record(header({ dscp: 5 }), arrival({ receivedDscp: null, receivedTtl: null }));
  const [sender] = summarizeReceiver(stats).senders;
  assert.deepEqual(sender.dscp, {
    received: null,
    original: 5,
    remarked: null,
    remarked_packets: 0,
    seen: {},
  });
  assert.deepEqual(sender.ttl, {
    received: null,
    original: 64,
    hops: null,
    min: null,
    max: null,
    changes: 0,
  });
  // A header field out of the DSCP range (a lying sender) is passed through as the number.
  const odd = new ReceiverStats();
  odd.record(header({ dscp: 200 }), arrival({ receivedDscp: 0 }));
  assert.deepEqual(summarizeReceiver(odd).senders[0].dscp, {
    received: "be",
    original: 200,
    remarked: true,
    remarked_packets: 1,
    seen: { be: 1 },
  });
});

Deno.test("rates count MCAS datagrams over the sender's own span, not the time waited before", () => {
  const stats = new ReceiverStats();
  // Nothing for 10 s (WAITING), then 100 datagrams at 100 pps, plus foreign traffic.
  for (let i = 0; i < 100; i++) {
    stats.record(
      header({ sequence: BigInt(i) }),
      arrival({ arrivalNs: 10n * S + BigInt(i) * 10n * MS }),
    );
    stats.recordForeign(1316);
  }
  const [sender] = summarizeReceiver(stats).senders;
  assert.equal(sender.rate_pps, 100);
  assert.equal(summarizeReceiver(stats).totals.foreign, 100);
  const one = new ReceiverStats();
  one.record(header(), arrival());
  assert.equal(summarizeReceiver(one).senders[0].rate_pps, 0, "no span with one datagram");
});

Deno.test("sender ids are 16 hex digits, sequence numbers above 2^53 − 1 strings", () => {
  const stats = new ReceiverStats();
  stats.record(header({ senderId: -1n, sequence: 2n ** 53n }), arrival());
  const [sender] = summarizeReceiver(stats).senders;
  assert.equal(sender.sender_id, "ffffffffffffffff");
  assert.equal(sender.first_seq, "9007199254740992");
  assert.equal(sender.last_seq, "9007199254740992");
});

Deno.test("gaps get ISO dates from the epoch offset and seconds rounded to milliseconds", () => {
  const epoch = 1_700_000_000n * S; // 2023-11-14T22:13:20Z
  const stats = new ReceiverStats({ stallTimeoutS: 1, epochOffsetNs: epoch });
  stats.record(header(), arrival({ arrivalNs: 2n * S }));
  stats.tick(3n * S + 123_456_789n);
  assert.deepEqual(summarizeReceiver(stats).gaps, [
    { started_at: "2023-11-14T22:13:22.000Z", duration_s: 1.123 },
  ]);
  assert.equal(summarizeReceiver(stats).status, "STALLED");
});

Deno.test("a gap outside the Date range has started_at null", () => {
  const stats = new ReceiverStats({ stallTimeoutS: 1, epochOffsetNs: 10n ** 22n });
  stats.record(header(), arrival());
  stats.tick(2n * S);
  assert.deepEqual(summarizeReceiver(stats).gaps, [{ started_at: null, duration_s: 2 }]);
});

Deno.test("jitter is rounded to microseconds", () => {
  const stats = new ReceiverStats();
  // Transit 0, then 1.0004 ms: J = 1.0004 / 16 = 0.062525 ms → 0.063 (rounded, not cut).
  stats.record(header({ sequence: 0n }), arrival({ arrivalNs: 10n * MS }));
  stats.record(
    header({ sequence: 1n, timestampNs: 20n * MS }),
    arrival({ arrivalNs: 30n * MS + 1_000_400n }),
  );
  assert.equal(stats.senders()[0].jitterMs, 1.0004 / 16);
  assert.equal(summarizeReceiver(stats).senders[0].jitter_ms, 0.063);
});
