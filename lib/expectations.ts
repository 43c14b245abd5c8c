/**
 * Lab expectations of `mcast-receive` (`--min-packets`, `--max-loss`, `--expect-dscp`,
 * `--expect-hops`): pure evaluation of the receiver statistics (one group's, or several groups'
 * together), so that a shell script grading a lab gets exit code 3 and a list of
 * `{ name, ok, detail }` telling what was and was not met.
 *
 * Rules (CONTRACT "mcast-receive"):
 *
 * - `min-packets N`: at least N MCAS datagrams arrived (duplicates included, as `packets` counts
 *   them).
 * - `max-loss PCT`: overall loss percent, lost / (lost + unique received) × 100, is at most PCT.
 *   With nothing received there is nothing lost (0 %): met; use `--min-packets` to require traffic.
 * - `expect-dscp D`: every MCAS packet of every sender arrived with DSCP D (90 packets remarked
 *   AF11 and 10 clean EF packets do not meet `--expect-dscp ef`, whatever the last one was).
 * - `expect-hops N`: every MCAS packet of every sender arrived N hops away (original TTL minus
 *   received TTL, packet by packet).
 *
 * For the two "every packet" expectations, no sender at all is *not* met: a lab that expects EF
 * or one hop has not shown it when nothing arrived (the detail says so). A packet whose received
 * TTL or DSCP the kernel did not report cannot be shown to match, so it does not meet them
 * either.
 *
 * @module
 */

import { formatDscp } from "./dscp.ts";
import { formatSenderId } from "./mcas.ts";
import { lossPercent, type ReceiverTotals, type SenderSnapshot } from "./receiver_stats.ts";

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

/** What the expectations judge: `ReceiverStats` fits; so does a list of them (several groups). */
export interface ExpectationSource {
  /** The totals (packets, duplicates, lost). */
  totals(): Pick<ReceiverTotals, "packets" | "duplicates" | "lost">;
  /** The senders, with their per-packet TTL and DSCP figures. */
  senders(): SenderSnapshot[];
}

/**
 * Evaluates the given expectations against receiver statistics, in the order min-packets,
 * max-loss, expect-dscp, expect-hops (only those given). Several sources (one per group) are
 * judged together: their totals add up and every sender of every group must match.
 *
 * @example
 * ```ts
 * import { evaluateExpectations } from "./expectations.ts";
 * import { ReceiverStats } from "./receiver_stats.ts";
 * const stats = new ReceiverStats();
 * const arrival = { source: "10.0.0.1", receivedTtl: 63, receivedDscp: 46, arrivalNs: 0n, bytes: 200 };
 * for (let i = 0; i < 10; i++) {
 *   arrival.receivedDscp = i < 9 ? 10 : 46; // nine remarked AF11, the last one clean EF
 *   stats.record({ senderId: 1n, sequence: BigInt(i), timestampNs: 0n, ttl: 64, dscp: 46 }, arrival);
 * }
 * const [dscp] = evaluateExpectations({ expectDscp: 46 }, stats);
 * dscp.ok; // false
 * dscp.detail; // "expected EF for every packet: 0000000000000001 from 10.0.0.1 received AF11 ×9, EF ×1"
 * ```
 *
 * @param flags The expectation flags.
 * @param source The statistics (`ReceiverStats`), or one per group.
 * @returns One result per given flag.
 */
export function evaluateExpectations(
  flags: ExpectationFlags,
  source: ExpectationSource | readonly ExpectationSource[],
): ExpectationResult[] {
  const sources: readonly ExpectationSource[] = Array.isArray(source)
    ? source
    : [source as ExpectationSource];
  const totals = { packets: 0, duplicates: 0, lost: 0 };
  const senders: SenderSnapshot[] = [];
  for (const one of sources) {
    const t = one.totals();
    totals.packets += t.packets;
    totals.duplicates += t.duplicates;
    totals.lost += t.lost;
    senders.push(...one.senders());
  }
  const results: ExpectationResult[] = [];
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
    const want = flags.expectDscp;
    const label = formatDscp(want);
    const off = senders.filter((s) =>
      s.dscpUnknownPackets > 0 || s.dscpSeen.some(([dscp]) => dscp !== want)
    );
    results.push({
      name: "expect-dscp",
      ok: senders.length > 0 && off.length === 0,
      detail: senders.length === 0
        ? `no sender seen, so no received DSCP to compare with ${label}`
        : off.length === 0
        ? `every packet of ${everySender(senders.length)} received ${label}`
        : `expected ${label} for every packet: ${
          off.map((s) => `${senderName(s)} received ${dscpText(s)}`).join("; ")
        }`,
    });
  }
  if (flags.expectHops !== undefined) {
    const want = flags.expectHops;
    const off = senders.filter((s) =>
      s.ttlUnknownPackets > 0 || s.hopsMin !== want || s.hopsMax !== want
    );
    results.push({
      name: "expect-hops",
      ok: senders.length > 0 && off.length === 0,
      detail: senders.length === 0
        ? `no sender seen, so no hop count to compare with ${want}`
        : off.length === 0
        ? `every packet of ${everySender(senders.length)} ${want} ${plural(want, "hop")} away`
        : `expected ${want} ${plural(want, "hop")} for every packet: ${
          off.map((s) => `${senderName(s)} ${hopsText(s)}`).join("; ")
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

function senderName(s: SenderSnapshot): string {
  return `${formatSenderId(BigInt.asUintN(64, s.senderId))} from ${s.source}`;
}

function hopsText(s: SenderSnapshot): string {
  const known = s.packets - s.ttlUnknownPackets;
  const range = s.hopsMin === null || s.hopsMax === null
    ? null
    : s.hopsMin === s.hopsMax
    ? `is ${s.hopsMin} ${plural(s.hopsMin, "hop")} away`
    : `is ${s.hopsMin} to ${s.hopsMax} hops away`;
  if (s.ttlUnknownPackets === 0) return range ?? "has no received TTL";
  const unknown = `has no received TTL for ${s.ttlUnknownPackets} of ${s.packets} ${
    plural(s.packets, "packet")
  }`;
  return known > 0 && range !== null ? `${range}, ${unknown}` : unknown;
}

function formatPercent(value: number): string {
  return `${Number(value.toFixed(3))}%`;
}

function dscpText(s: SenderSnapshot): string {
  const seen = s.dscpSeen.map(([dscp, n]) => `${formatDscp(dscp)} ×${n}`);
  if (s.dscpUnknownPackets > 0) {
    seen.push(`nothing the kernel reported ×${s.dscpUnknownPackets}`);
  }
  return seen.join(", ");
}
