/**
 * DSCP (Differentiated Services Code Point) names and values.
 *
 * Names: `be`/`cs0` = 0, `cs1`..`cs7` = 8 × n, `af11`..`af43` = 8 × class + 2 × drop precedence,
 * `ef` = 46, `va` = 44 (VOICE-ADMIT, RFC 5865), `le` = 1 (lower effort, RFC 8622). The DSCP is the
 * upper six bits of the IPv4 TOS / IPv6 traffic class byte; the lower two are ECN.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";

/** The highest DSCP value: six bits. */
export const MAX_DSCP = 63;

function buildNames(): Readonly<Record<string, number>> {
  const names: Record<string, number> = { be: 0, le: 1, va: 44, ef: 46 };
  for (let n = 0; n <= 7; n++) names[`cs${n}`] = 8 * n;
  for (let x = 1; x <= 4; x++) {
    for (let y = 1; y <= 3; y++) names[`af${x}${y}`] = 8 * x + 2 * y;
  }
  return Object.freeze(names);
}

/**
 * Every DSCP name {@linkcode parseDscp} accepts, lowercase, with its value.
 *
 * @example
 * ```ts
 * import { DSCP_VALUES } from "./dscp.ts";
 * DSCP_VALUES.af41; // 34
 * ```
 */
export const DSCP_VALUES: Readonly<Record<string, number>> = buildNames();

/** The preferred name of each named value: `be` (not `cs0`) for 0. */
const PREFERRED_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(DSCP_VALUES)
    .filter(([name]) => name !== "cs0")
    .map(([name, value]) => [value, name]),
);

const EXPECTED = "an integer from 0 to 63 or a name: be, cs0..cs7, af11..af43, ef, va, le";

/**
 * Parses a DSCP given as a number (0 to 63), a decimal string, or a name (case-insensitive).
 *
 * @example
 * ```ts
 * import { parseDscp } from "./dscp.ts";
 * parseDscp("ef"); // 46
 * parseDscp("AF41"); // 34
 * parseDscp("10"); // 10
 * parseDscp(0); // 0
 * ```
 *
 * @param dscp The DSCP.
 * @returns The value, 0 to 63.
 * @throws {InvalidValueError} On anything else.
 */
export function parseDscp(dscp: string | number): number {
  if (typeof dscp === "number") {
    if (Number.isInteger(dscp) && dscp >= 0 && dscp <= MAX_DSCP) return dscp;
    throw new InvalidValueError("dscp", dscp, EXPECTED);
  }
  if (typeof dscp !== "string") throw new InvalidValueError("dscp", dscp, EXPECTED);
  if (/^(0|[1-9][0-9]?)$/.test(dscp)) {
    const value = Number(dscp);
    if (value <= MAX_DSCP) return value;
  }
  const lower = dscp.toLowerCase();
  if (Object.hasOwn(DSCP_VALUES, lower)) return DSCP_VALUES[lower];
  throw new InvalidValueError("dscp", dscp, EXPECTED);
}

/**
 * The lowercase name of a DSCP value where one exists (`be` for 0, `ef`, `af41`, `cs5` …),
 * else the number itself, as the `--json` outputs show it.
 *
 * @example
 * ```ts
 * import { dscpName } from "./dscp.ts";
 * dscpName(46); // "ef"
 * dscpName(0); // "be"
 * dscpName(13); // 13
 * ```
 *
 * @param dscp The value, 0 to 63.
 * @returns The name, or the number when the value has none.
 * @throws {InvalidValueError} When `dscp` is not an integer from 0 to 63.
 */
export function dscpName(dscp: number): string | number {
  return PREFERRED_NAMES.get(checkDscp(dscp)) ?? dscp;
}

/**
 * A DSCP value for display: the uppercase name (`"EF"`, `"AF11"`, `"BE"`) or the number as text.
 *
 * @example
 * ```ts
 * import { formatDscp } from "./dscp.ts";
 * formatDscp(46); // "EF"
 * formatDscp(10); // "AF11"
 * formatDscp(13); // "13"
 * ```
 *
 * @param dscp The value, 0 to 63.
 * @returns The display text.
 * @throws {InvalidValueError} When `dscp` is not an integer from 0 to 63.
 */
export function formatDscp(dscp: number): string {
  const name = dscpName(dscp);
  return typeof name === "string" ? name.toUpperCase() : String(name);
}

/**
 * The TOS / traffic class byte for a DSCP, with ECN bits zero: `dscp << 2`.
 *
 * @example
 * ```ts
 * import { dscpToTos } from "./dscp.ts";
 * dscpToTos(46); // 184 (0xb8)
 * ```
 *
 * @param dscp The value, 0 to 63.
 * @returns The TOS byte.
 * @throws {InvalidValueError} When `dscp` is not an integer from 0 to 63.
 */
export function dscpToTos(dscp: number): number {
  return checkDscp(dscp) << 2;
}

/**
 * The DSCP in a TOS / traffic class byte, ECN bits dropped: `tos >> 2`.
 *
 * @example
 * ```ts
 * import { tosToDscp } from "./dscp.ts";
 * tosToDscp(0xb8); // 46
 * tosToDscp(0xb9); // 46 (ECN bit ignored)
 * ```
 *
 * @param tos The TOS byte, 0 to 255.
 * @returns The DSCP, 0 to 63.
 * @throws {InvalidValueError} When `tos` is not an integer from 0 to 255.
 */
export function tosToDscp(tos: number): number {
  if (!Number.isInteger(tos) || tos < 0 || tos > 255) {
    throw new InvalidValueError("tos", tos, "an integer from 0 to 255");
  }
  return tos >> 2;
}

function checkDscp(dscp: number): number {
  if (!Number.isInteger(dscp) || dscp < 0 || dscp > MAX_DSCP) {
    throw new InvalidValueError("dscp", dscp, "an integer from 0 to 63");
  }
  return dscp;
}
