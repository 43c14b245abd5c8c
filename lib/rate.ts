/**
 * Parsing and formatting of `--rate` values: packets per second (`25pps`, `10kpps`), bits of UDP
 * payload per second (`500kbps`, `1.5Mbps`, `1Gbps`), or `max` (unpaced).
 *
 * Units are case-insensitive — there are no millipackets or millibits, so `mbps` and `Mbps` both
 * mean megabits — except the `b` of `bps`, which must be lowercase: `MBps` would read as
 * megabytes, a factor of 8 away, so it is refused rather than guessed. `Mpps` is accepted as well as the contract's `pps` and `kpps`. The number may be
 * decimal (`1.5Mbps`, `0.5pps`) but not in exponent form, and must be above zero; rates above
 * 100 Mpps or 1 Tbps are refused as typing mistakes.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";

/** A rate in packets per second. */
export interface PacketRate {
  /** Discriminant. */
  kind: "pps";
  /** Packets per second, above zero. */
  pps: number;
}

/** A rate in bits of UDP payload per second. */
export interface BitRate {
  /** Discriminant. */
  kind: "bps";
  /** Bits of UDP payload per second, above zero. */
  bitsPerSecond: number;
}

/** No pacing: send as fast as the socket accepts. */
export interface MaxRate {
  /** Discriminant. */
  kind: "max";
}

/** A parsed `--rate` value. */
export type Rate = PacketRate | BitRate | MaxRate;

/** The highest packet rate {@linkcode parseRate} accepts: 100 Mpps. */
export const MAX_PACKETS_PER_SECOND = 100_000_000;

/** The highest bit rate {@linkcode parseRate} accepts: 1 Tbps. */
export const MAX_BITS_PER_SECOND = 1_000_000_000_000;

const EXPECTED = "Npps, Nkpps, Nbps, Nkbps, NMbps, NGbps with N above zero, or max";
const RATE_PATTERN = /^([0-9]+)(?:\.([0-9]+))?(pps|kpps|mpps|bps|kbps|mbps|gbps)$/i;
const UNIT_EXPONENTS: Readonly<Record<string, number>> = {
  pps: 0,
  kpps: 3,
  mpps: 6,
  bps: 0,
  kbps: 3,
  mbps: 6,
  gbps: 9,
};

/**
 * Parses a `--rate` value.
 *
 * @example
 * ```ts
 * import { parseRate } from "./rate.ts";
 * parseRate("25pps"); // { kind: "pps", pps: 25 }
 * parseRate("10kpps"); // { kind: "pps", pps: 10000 }
 * parseRate("1.5Mbps"); // { kind: "bps", bitsPerSecond: 1500000 }
 * parseRate("max"); // { kind: "max" }
 * ```
 *
 * @param text The rate as typed.
 * @returns The parsed rate.
 * @throws {InvalidValueError} On an empty, zero, negative, non-finite, unknown-unit or absurdly
 * large rate.
 */
export function parseRate(text: string): Rate {
  if (typeof text !== "string") throw new InvalidValueError("rate", text, EXPECTED);
  if (text.toLowerCase() === "max") return { kind: "max" };
  const match = RATE_PATTERN.exec(text);
  if (match === null) throw new InvalidValueError("rate", text, EXPECTED);
  const [, whole, fraction = "", unitText] = match;
  const unit = unitText.toLowerCase();
  if (unitText.includes("B")) {
    throw new InvalidValueError("rate", text, "bits per second with a lowercase b (B is bytes)");
  }
  // Scale in decimal so that "1.1kpps" is exactly 1100, not 1100.0000000000002.
  const exponent = UNIT_EXPONENTS[unit] - fraction.length;
  const value = Number(`${whole}${fraction}e${exponent}`);
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new InvalidValueError("rate", text, EXPECTED);
  }
  if (unit.endsWith("pps")) {
    if (value > MAX_PACKETS_PER_SECOND) {
      throw new InvalidValueError("rate", text, "at most 100Mpps");
    }
    return { kind: "pps", pps: value };
  }
  if (value > MAX_BITS_PER_SECOND) {
    throw new InvalidValueError("rate", text, "at most 1000Gbps");
  }
  return { kind: "bps", bitsPerSecond: value };
}

/**
 * The packets per second a rate means for a given UDP payload size, or `null` for `max`.
 *
 * @example
 * ```ts
 * import { packetsPerSecond, parseRate } from "./rate.ts";
 * packetsPerSecond(parseRate("25pps"), 200); // 25
 * packetsPerSecond(parseRate("1Mbps"), 1250); // 100 (1250 bytes = 10000 bits)
 * packetsPerSecond(parseRate("max"), 200); // null
 * ```
 *
 * @param rate The parsed rate.
 * @param payloadSize UDP payload bytes per packet (the MCAS header included).
 * @returns Packets per second, or `null` when unpaced.
 * @throws {InvalidValueError} When `payloadSize` is not a positive integer.
 */
export function packetsPerSecond(rate: Rate, payloadSize: number): number | null {
  if (!Number.isInteger(payloadSize) || payloadSize < 1) {
    throw new InvalidValueError("size", payloadSize, "a positive integer number of bytes");
  }
  switch (rate.kind) {
    case "pps":
      return rate.pps;
    case "bps":
      return rate.bitsPerSecond / (payloadSize * 8);
    case "max":
      return null;
  }
}

const PPS_UNITS: ReadonlyArray<readonly [number, string]> = [
  [1e6, "Mpps"],
  [1e3, "kpps"],
  [1, "pps"],
];
const BPS_UNITS: ReadonlyArray<readonly [number, string]> = [
  [1e9, "Gbps"],
  [1e6, "Mbps"],
  [1e3, "kbps"],
  [1, "bps"],
];

/**
 * Formats a rate in the largest unit that shows it exactly with at most three decimals, else in
 * plain pps or bps; {@linkcode parseRate} reads the result back.
 *
 * @example
 * ```ts
 * import { formatRate } from "./rate.ts";
 * formatRate({ kind: "pps", pps: 25 }); // "25pps"
 * formatRate({ kind: "pps", pps: 1500 }); // "1.5kpps"
 * formatRate({ kind: "bps", bitsPerSecond: 1_500_000 }); // "1.5Mbps"
 * formatRate({ kind: "max" }); // "max"
 * ```
 *
 * @param rate The rate.
 * @returns The rate as text.
 */
export function formatRate(rate: Rate): string {
  switch (rate.kind) {
    case "pps":
      return formatScaled(rate.pps, PPS_UNITS);
    case "bps":
      return formatScaled(rate.bitsPerSecond, BPS_UNITS);
    case "max":
      return "max";
  }
}

function formatScaled(value: number, units: ReadonlyArray<readonly [number, string]>): string {
  for (const [scale, unit] of units) {
    const scaled = value / scale;
    if (scaled < 1) continue;
    const thousandths = Math.round(scaled * 1000);
    if (Math.abs(thousandths - scaled * 1000) < 1e-6 * Math.max(1, scaled)) {
      return `${thousandths / 1000}${unit}`;
    }
  }
  return `${value}${units[units.length - 1][1]}`;
}
