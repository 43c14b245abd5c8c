/**
 * The cost of one FFI call from the library (pure, in-process): `clockNs` is one call of
 * `clock_gettime` through `Deno.dlopen` (a vDSO call of about 20 ns in C) plus two BigInt
 * operations — the per-syscall overhead that the send and receive paths pay on top of C.
 * {@linkcode OPS} calls per iteration; `bench/run.ts` divides. Needs `--allow-ffi`.
 *
 * @module
 */

import { PLATFORM } from "../ffi/constants.ts";
import { clockNs } from "../ffi/clock.ts";

/** Calls per benchmark iteration. */
export const OPS = 1000;

const MONOTONIC = PLATFORM.CLOCK_MONOTONIC;
let sink = 0n;

Deno.bench(`clockNs (one FFI call) x${OPS}`, () => {
  for (let i = 0; i < OPS; i++) sink ^= clockNs(MONOTONIC);
});

addEventListener("unload", () => {
  if (sink === -1n) console.log(sink); // keeps `sink` observable
});
