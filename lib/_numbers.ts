/**
 * Number helpers shared by the library and the tools.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";

/**
 * Returns `value` when it is an integer from `min` to `max`; otherwise throws the
 * {@linkcode InvalidValueError} naming it.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./_numbers.ts";
 * checkInteger("port", 5000, 1, 65535); // 5000
 * ```
 *
 * @param what What the value is, for the message.
 * @param value The value.
 * @param min The smallest accepted.
 * @param max The largest accepted.
 * @returns The value.
 * @throws {InvalidValueError} When it is not such an integer.
 */
export function checkInteger(what: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidValueError(what, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

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
