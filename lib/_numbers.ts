/**
 * Number helpers shared by the library and the tools.
 *
 * @module
 */

/**
 * Rounds to a number of decimal digits, for figures in JSON summaries (`duration_s`, `jitter_ms`,
 * `achieved_pps` …). A value that is not finite (NaN, ±Infinity) becomes 0, so that a summary
 * always stays valid JSON.
 *
 * @example
 * ```ts
 * import { round } from "./_numbers.ts";
 * round(1.23456, 3); // 1.235
 * round(2.5, 0); // 3
 * round(Number.NaN, 2); // 0
 * ```
 *
 * @param value The value.
 * @param digits Decimal digits to keep (0 or more).
 * @returns The rounded value, or 0 when `value` is not finite.
 */
export function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return 0;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
