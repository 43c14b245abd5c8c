/**
 * Lab expectations of `mcast-receive` (`--min-packets`, `--max-loss`, `--expect-dscp`,
 * `--expect-hops`): pure evaluation of a receiver summary, so that a shell script grading a lab
 * gets exit code 3 and a list of `{ name, ok, detail }` telling what was and was not met.
 *
 * Rules (CONTRACT "mcast-receive"):
 *
 * - `min-packets N`: at least N MCAS datagrams arrived (duplicates included, as `packets` counts
 *   them).
 * - `max-loss PCT`: overall loss percent, lost / (lost + unique received) × 100, is at most PCT.
 *   With nothing received there is nothing lost (0 %): met; use `--min-packets` to require traffic.
 * - `expect-dscp D`: every sender's received DSCP equals D.
 * - `expect-hops N`: every sender is N hops away (original TTL minus received TTL).
 *
 * For the two "every sender" expectations, no sender at all is *not* met: a lab that expects EF
 * or one hop has not shown it when nothing arrived (the detail says so). A sender whose received
 * TTL or DSCP the kernel did not report does not meet them either.
 *
 * @module
 */

import { dscpName, formatDscp } from "./dscp.ts";
import { lossPercent } from "./receiver_stats.ts";
import type { ReceiverSummaryJson } from "./receiver_summary.ts";

/** The expectation flags of `mcast-receive`; an absent field was not given. */
export interface ExpectationFlags {
  /** `--min-packets N`. */
  minPackets?: number;
  /** `--max-loss PCT`, percent 0 to 100. */
  maxLoss?: number;
  /** `--expect-dscp D`, the value 0 to 63. */
  expectDscp?: number;
  /** `--expect-hops N`. */
  expectHops?: number;
}

/** One evaluated expectation, as listed in the `--json` summary's `expectations`. */
export interface ExpectationResult {
  /** The flag without dashes: `min-packets`, `max-loss`, `expect-dscp`, `expect-hops`. */
  name: string;
  /** Whether it was met. */
  ok: boolean;
  /** One line saying what was seen against what was expected. */
  detail: string;
}

/**
 * Whether any expectation flag was given (then the summary lists `expectations`).
 *
 * @example
 * ```ts
 * import { hasExpectations } from "./expectations.ts";
 * hasExpectations({}); // false
 * hasExpectations({ minPackets: 0 }); // true
 * ```
 *
 * @param flags The flags.
 * @returns True when at least one is set.
 */
export function hasExpectations(flags: ExpectationFlags): boolean {
  return flags.minPackets !== undefined || flags.maxLoss !== undefined ||
    flags.expectDscp !== undefined || flags.expectHops !== undefined;
}

/**
 * Evaluates the given expectations against a receiver summary, in the order min-packets,
 * max-loss, expect-dscp, expect-hops (only those given).
 *
 * @example
 * ```ts
 * import { evaluateExpectations } from "./expectations.ts";
 * const summary = {
 *   status: "RECEIVING" as const,
 *   totals: {
 *     packets: 10, bytes: 2000, lost: 0, duplicates: 0, reordered: 0,
 *     restarts: 0, foreign: 0, stalls: 0,
 *   },
 *   senders: [],
 *   gaps: [],
 * };
 * const [result] = evaluateExpectations({ minPackets: 20 }, summary);
 * result.ok; // false
 * result.detail; // "10 MCAS packets received, expected at least 20"
 * ```
 *
 * @param flags The expectation flags.
 * @param summary The receiver summary (`ReceiverStats.summary()`).
 * @returns One result per given flag.
 */
export function evaluateExpectations(
  flags: ExpectationFlags,
  summary: ReceiverSummaryJson,
): ExpectationResult[] {
  const results: ExpectationResult[] = [];
  const { totals, senders } = summary;
  if (flags.minPackets !== undefined) {
    const want = flags.minPackets;
    results.push({
      name: "min-packets",
      ok: totals.packets >= want,
      detail: `${totals.packets} MCAS ${plural(totals.packets, "packet")} received, ` +
        `expected at least ${want}`,
    });
  }
  if (flags.maxLoss !== undefined) {
    const unique = totals.packets - totals.duplicates;
    const expected = totals.lost + unique;
    const loss = lossPercent(totals.lost, unique);
    const what = expected === 0
      ? "nothing received, so nothing lost (0%)"
      : `loss ${formatPercent(loss)} (${totals.lost} of ${expected})`;
    results.push({
      name: "max-loss",
      ok: loss <= flags.maxLoss,
      detail: `${what}, expected at most ${formatPercent(flags.maxLoss)}`,
    });
  }
  if (flags.expectDscp !== undefined) {
    const want = dscpName(flags.expectDscp);
    const label = formatDscp(flags.expectDscp);
    const off = senders.filter((s) => s.dscp.received !== want);
    results.push({
      name: "expect-dscp",
      ok: senders.length > 0 && off.length === 0,
      detail: senders.length === 0
        ? `no sender seen, so no received DSCP to compare with ${label}`
        : off.length === 0
        ? `${everySender(senders.length)} received ${label}`
        : `expected ${label}: ${
          off.map((s) => `${s.sender_id} from ${s.source} received ${dscpText(s.dscp.received)}`)
            .join("; ")
        }`,
    });
  }
  if (flags.expectHops !== undefined) {
    const want = flags.expectHops;
    const off = senders.filter((s) => s.ttl.hops !== want);
    results.push({
      name: "expect-hops",
      ok: senders.length > 0 && off.length === 0,
      detail: senders.length === 0
        ? `no sender seen, so no hop count to compare with ${want}`
        : off.length === 0
        ? `${everySender(senders.length)} ${want} ${plural(want, "hop")} away`
        : `expected ${want} ${plural(want, "hop")}: ${
          off.map((s) =>
            `${s.sender_id} from ${s.source} ${
              s.ttl.hops === null
                ? "has no received TTL"
                : `is ${s.ttl.hops} ${plural(s.ttl.hops, "hop")} away`
            }`
          ).join("; ")
        }`,
    });
  }
  return results;
}

/**
 * Whether every result was met (true for none).
 *
 * @example
 * ```ts
 * import { expectationsMet } from "./expectations.ts";
 * expectationsMet([{ name: "min-packets", ok: true, detail: "" }]); // true
 * expectationsMet([]); // true
 * ```
 *
 * @param results The evaluated expectations.
 * @returns True when none failed.
 */
export function expectationsMet(results: readonly ExpectationResult[]): boolean {
  return results.every((r) => r.ok);
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function everySender(count: number): string {
  return count === 1 ? "the one sender" : `all ${count} senders`;
}

function formatPercent(value: number): string {
  return `${Number(value.toFixed(3))}%`;
}

function dscpText(value: string | number | null): string {
  if (value === null) return "nothing the kernel reported";
  return typeof value === "string" ? value.toUpperCase() : String(value);
}
