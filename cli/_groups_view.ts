// mcast-receive's view of several groups: a compact row per group (status, rate, packets, lost,
// hops, DSCP), the worst first — stalled, then waiting, then the most lost — for the dashboard,
// and one plain line per group for the status lines of a non-terminal run.

import pc from "picocolors";
import type { ReceiverStatus } from "../lib/receiver_stats.ts";
import type { ReceiverSummaryJson } from "../lib/receiver_summary.ts";

type Colors = ReturnType<typeof pc.createColors>;

/** Recent receive rate. */
export interface RateView {
  /** MCAS datagrams per second over the last second. */
  pps: number;
  /** Bits per second of MCAS UDP payload over the last second. */
  bps: number;
  /** Packets per second of the last seconds, oldest first, for the sparkline. */
  history: readonly number[];
}

/** One group of a receiver of several, as its row shows it. */
export interface GroupView {
  /** The group. */
  group: string;
  /** Its statistics summary. */
  summary: ReceiverSummaryJson;
  /** Its recent rate. */
  rate: RateView;
}

/** Options of {@linkcode renderGroupRows}. */
export interface GroupRowsOptions {
  /** Colours (plain text when off). */
  colors: Colors;
  /** Most rows shown; the rest are counted. */
  maxRows: number;
}

const RANK: Readonly<Record<ReceiverStatus, number>> = { STALLED: 0, WAITING: 1, RECEIVING: 2 };

/** The groups, worst first: stalled, waiting, then by loss (most first), then in given order. */
export function worstFirst(groups: readonly GroupView[]): GroupView[] {
  return groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) =>
      RANK[a.g.summary.status] - RANK[b.g.summary.status] ||
      b.g.summary.totals.loss_pct - a.g.summary.totals.loss_pct ||
      b.g.summary.totals.lost - a.g.summary.totals.lost || a.i - b.i
    )
    .map(({ g }) => g);
}

/** The dashboard's table of groups: a heading, then one row per group, worst first. */
export function renderGroupRows(groups: readonly GroupView[], options: GroupRowsOptions): string[] {
  const c = options.colors;
  const counts = { RECEIVING: 0, WAITING: 0, STALLED: 0 };
  for (const g of groups) counts[g.summary.status]++;
  const lines = [
    c.bold(`groups (${groups.length})`) +
    `  ${c.green(`${counts.RECEIVING} receiving`)}  ${c.yellow(`${counts.WAITING} waiting`)}  ` +
    `${counts.STALLED > 0 ? c.red(`${counts.STALLED} stalled`) : "0 stalled"}`,
    c.dim(
      `  ${"group".padEnd(40)} ${"status".padEnd(9)} ${"pps".padStart(8)} ` +
        `${"packets".padStart(9)} ${"lost".padStart(7)}  hops  dscp`,
    ),
  ];
  const sorted = worstFirst(groups);
  for (const g of sorted.slice(0, options.maxRows)) {
    const t = g.summary.totals;
    const status = g.summary.status;
    const badge = status === "RECEIVING"
      ? c.green(status.padEnd(9))
      : status === "STALLED"
      ? c.red(status.padEnd(9))
      : c.yellow(status.padEnd(9));
    const lost = `${t.lost}`.padStart(7);
    lines.push(
      `  ${g.group.padEnd(40)} ${badge} ${formatRate(g.rate.pps).padStart(8)} ` +
        `${String(t.packets).padStart(9)} ${t.lost > 0 ? c.yellow(lost) : lost}  ` +
        `${hopsText(g).padEnd(4)}  ${dscpText(g, c)}`,
    );
  }
  const more = sorted.length - options.maxRows;
  if (more > 0) lines.push(c.dim(`  … and ${more} more groups (see --json)`));
  return lines;
}

/** One plain line per group, for the status lines of a non-terminal run. */
export function renderGroupLines(groups: readonly GroupView[]): string[] {
  return groups.map((g) => {
    const t = g.summary.totals;
    return `  ${g.group} ${g.summary.status}: ${t.packets} packets, ${
      formatRate(g.rate.pps)
    } pps, ` +
      `lost ${t.lost}, dup ${t.duplicates}, reord ${t.reordered}, senders ` +
      `${g.summary.senders.length}, hops ${hopsText(g)}, DSCP ${dscpText(g, NO_COLOR)}`;
  });
}

const NO_COLOR = pc.createColors(false);

function hopsText(g: GroupView): string {
  const hops = new Set<number>();
  for (const s of g.summary.senders) {
    if (s.ttl.min === null || s.ttl.max === null) continue;
    hops.add(s.ttl.original - s.ttl.max);
    hops.add(s.ttl.original - s.ttl.min);
  }
  if (hops.size === 0) return "-";
  const sorted = [...hops].sort((a, b) => a - b);
  return sorted.length === 1 ? String(sorted[0]) : `${sorted[0]}-${sorted[sorted.length - 1]}`;
}

function dscpText(g: GroupView, c: Colors): string {
  const seen = new Map<string, number>();
  let remarked = false;
  for (const s of g.summary.senders) {
    if (s.dscp.remarked === true) remarked = true;
    for (const [name, n] of Object.entries(s.dscp.seen)) seen.set(name, (seen.get(name) ?? 0) + n);
  }
  if (seen.size === 0) return "-";
  const text = [...seen.keys()].map((name) => name.toUpperCase()).join("/");
  return remarked ? c.red(`${text} REMARKED`) : text;
}

function formatRate(pps: number): string {
  return pps >= 100 ? Math.round(pps).toLocaleString("en-US") : pps.toFixed(1);
}
