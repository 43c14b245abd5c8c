/**
 * Micro-benchmarks of {@linkcode ReceiverStats.record} (pure, in-process): `deno bench bench/`.
 * Every case records {@linkcode OPS} datagrams per iteration; the per-datagram time is the
 * reported time divided by {@linkcode OPS} (`bench/run.ts` does that division).
 *
 * @module
 */

import {
  type Arrival,
  type FastDatagram,
  type McasFields,
  ReceiverStats,
} from "../lib/receiver_stats.ts";

/** Datagrams recorded per benchmark iteration. */
export const OPS = 1000;

function arrival(): Arrival {
  return { source: "10.0.0.1", receivedTtl: 60, receivedDscp: 46, arrivalNs: 0n, bytes: 200 };
}

function fields(senderId: bigint): McasFields {
  return { senderId, sequence: 0n, timestampNs: 0n, ttl: 64, dscp: 46 };
}

const inOrder = { stats: new ReceiverStats(), header: fields(1n), arrival: arrival(), next: 0n };
Deno.bench(`ReceiverStats.record in order x${OPS}`, { group: "record", baseline: true }, () => {
  const { stats, header, arrival } = inOrder;
  for (let i = 0; i < OPS; i++) {
    header.sequence = inOrder.next++;
    header.timestampNs = header.sequence * 100_000n;
    arrival.arrivalNs = header.timestampNs + 50_000n;
    stats.record(header, arrival);
  }
});

const SENDERS = 8;
const many = {
  stats: new ReceiverStats(),
  headers: Array.from({ length: SENDERS }, (_, i) => fields(BigInt(i + 1))),
  arrival: arrival(),
  next: 0n,
};
Deno.bench(`ReceiverStats.record ${SENDERS} senders x${OPS}`, { group: "record" }, () => {
  const { stats, headers, arrival } = many;
  for (let i = 0; i < OPS; i++) {
    const header = headers[i % SENDERS];
    if (i % SENDERS === 0) many.next++;
    header.sequence = many.next;
    header.timestampNs = many.next * 100_000n;
    arrival.arrivalNs = header.timestampNs + 50_000n;
    stats.record(header, arrival);
  }
});

// In every block of 16 sequence numbers the first arrives after the fifth (counted lost, then
// found: "late"), and every 64th datagram is delivered twice (a duplicate).
const ORDER = [1, 2, 3, 4, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(BigInt);
const messy = { stats: new ReceiverStats(), header: fields(2n), arrival: arrival(), n: 0 };
Deno.bench(`ReceiverStats.record reorder+dup x${OPS}`, { group: "record" }, () => {
  const { stats, header, arrival } = messy;
  for (let i = 0; i < OPS; i++) {
    const n = messy.n++;
    header.sequence = BigInt(n - (n % 16)) + ORDER[n % 16];
    header.timestampNs = header.sequence * 100_000n;
    arrival.arrivalNs = BigInt(n) * 100_000n + 50_000n;
    stats.record(header, arrival);
    if (n % 64 === 63) stats.record(header, arrival);
  }
});

// The batch recorder's path for the same in-order stream: the 64-bit fields as numbers.
const fastInOrder = (() => {
  const stats = new ReceiverStats();
  const header = fields(1n);
  const first = arrival();
  stats.record(header, first);
  stats.timeBaseNs(0n);
  const datagram: FastDatagram = {
    idHigh: 0,
    idLow: 1,
    sequence: 0,
    sendNs: 0,
    arrivalRel: 0,
    bytes: 200,
    ttl: 64,
    dscp: 46,
    receivedTtl: 60,
    receivedDscp: 46,
  };
  return { stats, datagram, next: 1 };
})();
Deno.bench(`ReceiverStats.recordFast in order x${OPS}`, { group: "record" }, () => {
  const { stats, datagram } = fastInOrder;
  for (let i = 0; i < OPS; i++) {
    datagram.sequence = fastInOrder.next++;
    datagram.sendNs = datagram.sequence * 100_000;
    datagram.arrivalRel = datagram.sendNs + 50_000;
    if (!stats.recordFast(datagram)) throw new Error("recordFast refused an in-order datagram");
  }
});
