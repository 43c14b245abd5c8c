/**
 * Micro-benchmarks of the MCAS codec's hot path (pure, in-process): `deno bench bench/`.
 * Every case runs {@linkcode OPS} operations per iteration, so the per-operation time is the
 * reported time divided by {@linkcode OPS} (`bench/run.ts` does that division).
 *
 * @module
 */

import { classifyDatagram, createMcasHeader, decodeMcas, McasEncoder } from "../lib/mcas.ts";

/** Operations per benchmark iteration. */
export const OPS = 1000;

const encoder200 = new McasEncoder(200, { ttl: 8, dscp: 46, senderId: 0x0123_4567_89ab_cdefn });
const encoder1400 = new McasEncoder(1400, { ttl: 8, dscp: 46, senderId: 0x0123_4567_89ab_cdefn });
const datagram = new McasEncoder(200, { senderId: 7n }).encode(123_456n, 987_654_321n).slice();
const foreign = new TextEncoder().encode("not an MCAS datagram, just some bytes of text");
const header = createMcasHeader();
let sequence = 0n;
let sink = 0;

Deno.bench(`McasEncoder.encode 200 B x${OPS}`, { group: "encode", baseline: true }, () => {
  for (let i = 0; i < OPS; i++) sink ^= encoder200.encode(sequence++, 1_000_000_000n)[15];
});

Deno.bench(`McasEncoder.encode 1400 B x${OPS}`, { group: "encode" }, () => {
  for (let i = 0; i < OPS; i++) sink ^= encoder1400.encode(sequence++, 1_000_000_000n)[15];
});

Deno.bench(`decodeMcas ok x${OPS}`, { group: "decode", baseline: true }, () => {
  for (let i = 0; i < OPS; i++) if (decodeMcas(datagram, header) === "ok") sink ^= header.ttl;
});

Deno.bench(`decodeMcas foreign x${OPS}`, { group: "decode" }, () => {
  for (let i = 0; i < OPS; i++) if (decodeMcas(foreign, header) !== "ok") sink ^= 1;
});

Deno.bench(`classifyDatagram x${OPS}`, { group: "decode" }, () => {
  for (let i = 0; i < OPS; i++) if (classifyDatagram(datagram) === "mcas") sink ^= 1;
});

addEventListener("unload", () => {
  if (sink === 0x7fff_ffff) console.log(sink); // keeps `sink` observable
});
