// BatchRecorder on the host's lo (IPv4 multicast, joined on lo by name; random group and port):
// a Publication sends a scripted MCAS stream plus foreign datagrams, a Subscription receives them,
// and the statistics must show exactly the script's truth with the TTL and DSCP that were set.

import assert from "node:assert/strict";
import { BatchRecorder } from "../../lib/batch_recorder.ts";
import { createMcasHeader, decodeMcas, McasEncoder } from "../../lib/mcas.ts";
import { Publication } from "../../lib/publication.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { ReceiverStats } from "../../lib/receiver_stats.ts";
import { ReceivedMetadata, Subscription } from "../../lib/subscription.ts";
import { monotonicNs, realtimeNs } from "../../ffi/clock.ts";
import { freshGroup } from "./_loopback.ts";

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

Deno.test("BatchRecorder counts a scripted stream exactly, with TTL and DSCP", async () => {
  const group = freshGroup();
  const port = randomInt(20_000, 60_000);
  using sub = new Subscription(group, { interface: "lo", port });
  using pub = new Publication(
    new PublicationConfig(group, port).withOutgoingInterface("127.0.0.1").withTtl(7)
      .withDscp("af21"),
  );
  const encoder = new McasEncoder(64, { ttl: 7, dscp: 18, senderId: 0xfeedn });
  const script = [0n, 1n, 3n, 3n, 2n, 5n]; // 4 never sent, a second 3, a late 2
  for (const sequence of script) pub.send(encoder.encode(sequence, 1000n * sequence));
  pub.send(new TextEncoder().encode("not MCAS at all"));
  pub.send(new Uint8Array(31));

  const stats = new ReceiverStats();
  const recorder = new BatchRecorder(stats);
  let mcas = 0;
  let datagrams = 0;
  const deadline = Date.now() + 5_000;
  while (datagrams < script.length + 2 && Date.now() < deadline) {
    if (sub.receiveBatch() === 0) {
      await sub.waitReadable(200);
      continue;
    }
    datagrams += sub.batch.length;
    mcas += recorder.record(sub.batch);
  }
  assert.equal(mcas, script.length);
  const summary = stats.summary();
  assert.deepEqual(summary.totals, {
    packets: 6,
    bytes: 6 * 64,
    lost: 1,
    loss_pct: 16.667, // 1 of 1 + 5 unique
    duplicates: 1,
    reordered: 1,
    restarts: 0,
    foreign: 2,
    stalls: 0,
    senders_evicted: 0,
  });
  assert.equal(summary.senders.length, 1);
  const sender = summary.senders[0];
  assert.equal(sender.sender_id, "000000000000feed");
  assert.equal(sender.source, "127.0.0.1");
  assert.equal(sender.first_seq, 0);
  assert.equal(sender.last_seq, 5);
  assert.deepEqual(sender.ttl, { received: 7, original: 7, hops: 0, min: 7, max: 7, changes: 0 });
  assert.deepEqual(sender.dscp, {
    received: "af21",
    original: "af21",
    remarked: false,
    remarked_packets: 0,
    seen: { af21: 6 },
  });
});

Deno.test("BatchRecorder with arrivalOffsetNs puts arrivals on the sender's monotonic clock", async () => {
  const group = freshGroup();
  const port = randomInt(20_000, 60_000);
  using sub = new Subscription(group, { interface: "lo", port });
  using pub = new Publication(
    new PublicationConfig(group, port).withOutgoingInterface("127.0.0.1"),
  );
  const offset = realtimeNs() - monotonicNs();
  const stats = new ReceiverStats({ sharedClock: true, epochOffsetNs: offset });
  const recorder = new BatchRecorder(stats, { arrivalOffsetNs: offset });
  const encoder = new McasEncoder(32, { senderId: 0x1a7en });
  const sentAt: bigint[] = [];
  for (let i = 0n; i < 3n; i++) {
    sentAt.push(monotonicNs());
    pub.send(encoder.encode(i, sentAt[Number(i)]));
  }
  let got = 0;
  const deadline = Date.now() + 5_000;
  while (got < 3 && Date.now() < deadline) {
    if (sub.receiveBatch() === 0) await sub.waitReadable(200);
    else got += recorder.record(sub.batch);
  }
  const doneAt = monotonicNs();
  const [sender] = stats.senders();
  assert.ok(sender.latencyMs !== null);
  // One-way on one host: never negative, never longer than the whole exchange took.
  const bound = Number(doneAt - sentAt[0]) / 1e6;
  assert.ok(sender.latencyMs.min >= 0, `min ${sender.latencyMs.min} ms`);
  assert.ok(sender.latencyMs.max <= bound, `max ${sender.latencyMs.max} ms > ${bound} ms`);
});

// The recorder's bigint-free path against the reference on the very same batches: every batch is
// recorded by the recorder into one statistics object, and datagram by datagram with decodeMcas +
// ReceiverStats.record (kernel time from the metadata's bigint, offset subtracted) into another.
Deno.test("BatchRecorder's fast path equals decodeMcas + record at 2^32, 2^53 and 2^52 ns", async () => {
  for (const offset of [0n, 1_234_567_890_123n]) {
    const group = freshGroup();
    const port = randomInt(20_000, 60_000);
    using sub = new Subscription(group, { interface: "lo", port });
    using pub = new Publication(
      new PublicationConfig(group, port).withOutgoingInterface("127.0.0.1").withTtl(3),
    );
    const a = new McasEncoder(48, { ttl: 3, senderId: 0xffff_ffff_0000_0001n });
    const b = new McasEncoder(48, { ttl: 3, senderId: 0x0000_0001_ffff_ffffn });
    const script: [McasEncoder, bigint, bigint][] = [];
    for (let i = 0n; i < 40n; i++) script.push([a, 2n ** 32n - 20n + i, 2n ** 52n - 20n + i]);
    for (let i = 0n; i < 40n; i++) script.push([b, 2n ** 53n - 20n + i, 1_000n * i]);
    script.push([a, 2n ** 32n + 25n, 2n ** 52n + 5n], [a, 2n ** 32n + 22n, 7n]); // loss, late
    script.push([a, 2n ** 32n + 22n, 7n], [b, 5n, 2n ** 63n], [b, 6n, 2n ** 63n + 1n]); // dup, jump
    for (const [encoder, sequence, sendNs] of script) pub.send(encoder.encode(sequence, sendNs));
    pub.send(new Uint8Array(31)); // foreign

    const fast = new ReceiverStats({ stallTimeoutS: 60 });
    const reference = new ReceiverStats({ stallTimeoutS: 60 });
    const recorder = new BatchRecorder(fast, { arrivalOffsetNs: offset });
    let fastHits = 0; // how many datagrams took the bigint-free path (so the test can fail)
    const recordFast = fast.recordFast.bind(fast);
    fast.recordFast = (datagram) => recordFast(datagram) ? (fastHits++, true) : false;
    const header = createMcasHeader();
    const meta = new ReceivedMetadata();
    let datagrams = 0;
    const deadline = Date.now() + 5_000;
    while (datagrams < script.length + 1 && Date.now() < deadline) {
      if (sub.receiveBatch() === 0) {
        await sub.waitReadable(200);
        continue;
      }
      const batch = sub.batch;
      for (let i = 0; i < batch.length; i++) {
        if (decodeMcas(batch.payload(i), header) !== "ok") {
          reference.recordForeign(batch.datagramLength(i));
          continue;
        }
        batch.metadata(i, meta);
        reference.record(header, {
          source: batch.sourceAddress(i),
          receivedTtl: meta.ttl >= 0 ? meta.ttl : null,
          receivedDscp: meta.tos >= 0 ? meta.tos >> 2 : null,
          arrivalNs: meta.timestampNs - offset,
          bytes: batch.datagramLength(i),
        });
      }
      datagrams += batch.length;
      recorder.record(batch);
    }
    assert.equal(datagrams, script.length + 1);
    assert.deepEqual(fast.totals(), reference.totals());
    assert.deepEqual(fast.senders(), reference.senders());
    assert.equal(JSON.stringify(fast), JSON.stringify(reference));
    assert.equal(fast.totals().lost, 4); // 2^32 + 20 … 24 skipped, 22 came late
    assert.equal(fast.totals().duplicates, 1);
    assert.equal(fast.totals().jumps, 1);
    // a: its 2nd to 21st (send clock ≤ 2^52; the rest are above, or late, or a duplicate);
    // b: its 2nd to 20th (sequence below 2^53); the jump back has a send clock of 2^63.
    assert.equal(fastHits, 20 + 19);
  }
});
