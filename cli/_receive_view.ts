/**
 * What `mcast-receive` shows: the live dashboard, the plain status line for non-terminal runs and
 * the final summary. Everything here is a pure function of a {@linkcode ReceiveViewState} (the
 * receiver statistics' summary plus the run's facts), so it is unit-tested without a terminal;
 * colours come in as a parameter (`picocolors`, which yields plain text when colour is off).
 *
 * @module
 */

import pc from "picocolors";
import { colors as defaultColors, formatBitrate, formatDuration, sparkline } from "./_dashboard.ts";
import type { ExpectationResult } from "../lib/expectations.ts";
import { type LatencyMs, lossPercent, type ReceiverStatus } from "../lib/receiver_stats.ts";
import {
  type GroupView,
  type RateView,
  renderGroupLines,
  renderGroupRows,
} from "./_groups_view.ts";

export type { GroupView, RateView };
import type { GapJson, ReceiverSummaryJson, SenderJson } from "../lib/receiver_summary.ts";

/** A colour set: `picocolors.createColors(enabled)`. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Colours that are all off: plain text. */
export const NO_COLORS: Colors = pc.createColors(false);

/** Everything the views show. */
export interface ReceiveViewState {
  /** The tool version. */
  version: string;
  /** The group (the first, with several). */
  group: string;
  /** The groups as given, when several (`239.1.1.1+63`); undefined for one. */
  groupsText?: string;
  /** The SSM source (the first of an INCLUDE list), or null for an any-source join. */
  source: string | null;
  /** The INCLUDE-mode sources. @default {[source] or []} */
  sources?: readonly string[];
  /** The EXCLUDE-mode sources. @default {[]} */
  exclude?: readonly string[];
  /** UDP port. */
  port: number;
  /** The interface joined on, or null when the kernel chose it. */
  interface: string | null;
  /** The membership protocol and version as shown: `"IGMPv3"`, `"IGMPv2 (forced)"`, `"MLDv2"`. */
  membership: string;
  /** Seconds since the join. */
  elapsedS: number;
  /** `--duration`, 0 for until interrupted. */
  durationS: number;
  /** Recent rate of MCAS datagrams. */
  rate: RateView;
  /** Foreign (non-MCAS) datagrams per second over the last second. @default {0} */
  foreignPps?: number;
  /**
   * Seconds from the first to the latest MCAS datagram (what the final average rate divides
   * by: not the time spent WAITING). @default {elapsedS}
   */
  activeS?: number;
  /** The statistics summary (`ReceiverStats.summary()`; with several groups, the sums). */
  summary: ReceiverSummaryJson;
  /** Each group, when several (the dashboard shows a row per group). @default {[]} */
  groups?: readonly GroupView[];
  /** Lines about the run worth showing (hints). @default {[]} */
  notes?: readonly string[];
  /** The querier heard on the join interface; absent: not shown. */
  querier?: QuerierView;
  /** Why nothing arrives, while (or when the run ended) silent; absent: not shown. */
  diagnosis?: DiagnosisView;
  /**
   * One-way latency by sender id (16 hex digits), for senders on this host (they share its
   * monotonic clock); absent for the others.
   */
  latencyMs?: ReadonlyMap<string, LatencyMs>;
  /** Evaluated expectations, or null when no expectation flag was given. */
  expectations: readonly ExpectationResult[] | null;
  /** True for the final frame / summary after the run ended. */
  final: boolean;
}

/** The querier, as the dashboard shows it. */
export interface QuerierView {
  /** IGMP or MLD. */
  protocol: "IGMP" | "MLD";
  /** Whether it is listened for; when not, `skipped` says why. */
  watched: boolean;
  /** Why it is not listened for (`needs root`), or null. */
  skipped: string | null;
  /** The querier heard, or null. */
  querier: { address: string; version: number; last_seen_s: number } | null;
  /** Seconds listened since the join. */
  listenedS: number;
}

/** The receiver's diagnosis, as the dashboard shows it. */
export interface DiagnosisView {
  /** A diagnosis is running now. */
  running: boolean;
  /** The finding to show first, or null. */
  top: { id: string; severity: "error" | "warning"; message: string; fix: string } | null;
  /** Findings in all. */
  count: number;
}

/** Options of the renderers. */
export interface RenderOptions {
  /**
   * Colours to use; `NO_COLORS` for plain text.
   *
   * @default {the colours of `_dashboard.ts` (on for a terminal without NO_COLOR)}
   */
  colors?: Colors;
  /**
   * Most senders listed (the first ones seen); the rest are counted.
   *
   * @default {6}
   */
  maxSenders?: number;
  /**
   * Most gaps listed (the newest).
   *
   * @default {5}
   */
  maxGaps?: number;
  /**
   * Most group rows listed with several groups (the worst first).
   *
   * @default {20}
   */
  maxGroups?: number;
}

/**
 * The hop-count text of a sender: `recv 63, sender set 64 — 1 hop away`.
 *
 * @example
 * ```ts
 * import { describeHops } from "./_receive_view.ts";
 * const ttl = { received: 63, original: 64, hops: 1, min: 63, max: 63, changes: 0 };
 * describeHops(ttl); // "recv 63, sender set 64 — 1 hop away"
 * describeHops({ ...ttl, min: 58, changes: 2 });
 * // "TTL 58–63, 2 changes (last 63), sender set 64 — 1 to 6 hops away"
 * ```
 *
 * @param ttl The sender's `ttl` member of the summary.
 * @returns One line.
 */
export function describeHops(ttl: SenderJson["ttl"]): string {
  if (ttl.received === null || ttl.hops === null) {
    return `TTL not reported by the kernel, sender set ${ttl.original}`;
  }
  if (ttl.min !== null && ttl.max !== null && ttl.min !== ttl.max) {
    const changes = `${ttl.changes} ${ttl.changes === 1 ? "change" : "changes"}`;
    const near = ttl.original - ttl.max;
    const far = ttl.original - ttl.min;
    return `TTL ${ttl.min}–${ttl.max}, ${changes} (last ${ttl.received}), sender set ` +
      `${ttl.original} — ${near} to ${far} hops away`;
  }
  const head = `recv ${ttl.received}, sender set ${ttl.original}`;
  if (ttl.hops === 0) return `${head} — same link (0 hops)`;
  if (ttl.hops < 0) return `${head} — received TTL above the original (sender lies?)`;
  return `${head} — ${ttl.hops} ${ttl.hops === 1 ? "hop" : "hops"} away`;
}

/**
 * The DSCP text of a sender: `AF11, sender set EF — REMARKED` or `EF, sender set EF — preserved`.
 *
 * @example
 * ```ts
 * import { describeDscp } from "./_receive_view.ts";
 * const dscp = { received: "af11", original: "ef", remarked: true, remarked_packets: 90 };
 * describeDscp({ ...dscp, seen: { af11: 90 } }); // "AF11, sender set EF — REMARKED"
 * describeDscp({ ...dscp, received: "ef", seen: { af11: 90, ef: 10 } });
 * // "AF11 ×90, EF ×10, sender set EF — REMARKED (90 packets)"
 * ```
 *
 * @param dscp The sender's `dscp` member of the summary.
 * @returns One line.
 */
export function describeDscp(dscp: SenderJson["dscp"]): string {
  if (dscp.received === null || dscp.remarked === null) {
    return `DSCP not reported by the kernel, sender set ${dscpLabel(dscp.original)}`;
  }
  const seen = Object.entries(dscp.seen);
  if (seen.length > 1) {
    const mix = seen.map(([name, n]) => `${dscpLabel(name)} ×${n}`).join(", ");
    const verdict = dscp.remarked
      ? `REMARKED (${dscp.remarked_packets} ${dscp.remarked_packets === 1 ? "packet" : "packets"})`
      : "preserved";
    return `${mix}, sender set ${dscpLabel(dscp.original)} — ${verdict}`;
  }
  const head = `${dscpLabel(dscp.received)}, sender set ${dscpLabel(dscp.original)}`;
  return `${head} — ${dscp.remarked ? "REMARKED" : "preserved"}`;
}

/**
 * The live dashboard (and, with `final`, the closing summary): status, join, rate with a
 * sparkline, totals, one block per sender, the gap log and the expectations.
 *
 * @example
 * ```ts ignore
 * import { NO_COLORS, renderDashboard } from "./_receive_view.ts";
 * console.log(renderDashboard(state, { colors: NO_COLORS }));
 * ```
 *
 * @param state What to show.
 * @param options Colours and list lengths.
 * @returns The lines, joined with newlines (no trailing newline).
 */
export function renderDashboard(state: ReceiveViewState, options: RenderOptions = {}): string {
  const c = options.colors ?? defaultColors;
  const maxSenders = options.maxSenders ?? 6;
  const maxGaps = options.maxGaps ?? 5;
  const { summary, rate } = state;
  const t = summary.totals;
  const lines: string[] = [];

  const when = state.final
    ? `ran ${formatDuration(state.elapsedS)}`
    : state.durationS > 0
    ? `${formatDuration(state.elapsedS)} of ${formatDuration(state.durationS)}`
    : formatDuration(state.elapsedS);
  lines.push(
    `${c.bold("mcast-receive")} ${c.dim(state.version)}  ${statusBadge(summary.status, c)}  ` +
      c.dim(when),
  );
  lines.push(
    `${c.dim("join")}     ${joinText(state)}  ${c.dim("port")} ${state.port}  ` +
      `${c.dim("on")} ${state.interface ?? "routing default"}  ${state.membership}`,
  );
  const active = state.activeS ?? state.elapsedS;
  const foreign = (state.foreignPps ?? 0) > 0
    ? `  ${c.yellow(`+ ${formatNumber(state.foreignPps!)} pps foreign`)}`
    : "";
  const rateText = state.final
    ? `average ${formatNumber(active > 0 ? Math.max(0, t.packets - 1) / active : 0)} pps, ` +
      formatBitrate(active > 0 ? (t.bytes * 8) / active : 0) +
      c.dim(" (first to last MCAS datagram)")
    : `${formatNumber(rate.pps)} pps  ${formatBitrate(rate.bps)}${foreign}`;
  const spark = rate.history.length > 0 ? `  ${c.cyan(sparkline(rate.history))}` : "";
  lines.push(`${c.dim("rate")}     ${rateText}${spark}`);
  lines.push(
    `${c.dim("totals")}   packets ${t.packets}  bytes ${t.bytes}  ` +
      `lost ${warnIf(t.lost, c)} (${formatPercent(t.loss_pct)})  ` +
      `dup ${warnIf(t.duplicates, c)}  reord ${warnIf(t.reordered, c)}`,
  );
  lines.push(
    `         restarts ${warnIf(t.restarts, c)}  foreign ${warnIf(t.foreign, c)}  ` +
      `stalls ${warnIf(t.stalls, c)}  senders ${summary.senders.length}` +
      (t.senders_evicted > 0 ? `  ${c.yellow(`evicted ${t.senders_evicted}`)}` : ""),
  );
  for (const note of state.notes ?? []) lines.push(c.yellow(`note     ${note}`));
  if (state.querier !== undefined) {
    lines.push(`${c.dim("querier")}  ${querierText(state.querier, c)}`);
  }
  if (state.diagnosis !== undefined) lines.push(...diagnosisLines(state.diagnosis, c));

  lines.push("");
  const groups = state.groups ?? [];
  if (groups.length > 1) {
    lines.push(...renderGroupRows(groups, { colors: c, maxRows: options.maxGroups ?? 20 }));
  } else if (summary.senders.length === 0) {
    lines.push(c.dim(summary.status === "WAITING" ? "waiting for MCAS datagrams…" : "no senders"));
  } else {
    lines.push(c.bold(`senders (${summary.senders.length})`));
    for (const sender of summary.senders.slice(0, maxSenders)) {
      lines.push(...senderLines(sender, state.latencyMs?.get(sender.sender_id), c));
    }
    const more = summary.senders.length - maxSenders;
    if (more > 0) lines.push(c.dim(`  … and ${more} more (see --json)`));
  }

  if (groups.length <= 1 && summary.gaps.length > 0) {
    lines.push("");
    lines.push(c.bold(`gaps (${t.stalls}, newest last)`));
    const shown = summary.gaps.slice(-maxGaps);
    shown.forEach((gap, i) => {
      const ongoing = summary.status === "STALLED" && i === shown.length - 1 &&
        summary.gaps.length > 0;
      lines.push(`  ${gapLine(gap, ongoing, c)}`);
    });
  }

  if (state.expectations !== null && state.expectations.length > 0) {
    lines.push("");
    lines.push(c.bold("expectations"));
    for (const e of state.expectations) {
      const mark = e.ok ? c.green("✔ met  ") : c.red("✘ unmet");
      lines.push(`  ${mark} ${e.name.padEnd(12)} ${e.detail}`);
    }
  }
  if (!state.final) {
    lines.push("");
    lines.push(c.dim("Ctrl-C to stop"));
  }
  return lines.join("\n");
}

/**
 * The querier line: who was heard, or that none was, or why it is not listened for.
 *
 * @example
 * ```ts
 * import { NO_COLORS, querierText } from "./_receive_view.ts";
 * const querier = { address: "10.0.1.2", version: 2, last_seen_s: 3.1 };
 * const view = { protocol: "IGMP" as const, watched: true, skipped: null, listenedS: 20 };
 * querierText({ ...view, querier }, NO_COLORS); // "10.0.1.2 IGMPv2, last query 3.1s ago"
 * querierText({ ...view, querier: null }, NO_COLORS); // "none heard in 20.0s since the join"
 * ```
 *
 * @param q The querier view.
 * @param c Colours.
 * @returns One line's text.
 */
export function querierText(q: QuerierView, c: Colors = NO_COLORS): string {
  if (!q.watched) return c.dim(`not listened for (${q.skipped ?? "unknown"})`);
  if (q.querier === null) {
    return c.yellow(`none heard in ${formatDuration(q.listenedS)} since the join`);
  }
  return `${q.querier.address} ${q.protocol}v${q.querier.version}, last query ` +
    `${formatDuration(q.querier.last_seen_s)} ago`;
}

function diagnosisLines(d: DiagnosisView, c: Colors): string[] {
  if (d.top === null) return d.running ? [c.dim("why      checking why nothing arrives…")] : [];
  const more = d.count > 1 ? c.dim(` (+${d.count - 1} more, see --json)`) : "";
  const mark = d.top.severity === "error" ? c.red(d.top.id) : c.yellow(d.top.id);
  return [
    `${c.dim("why")}      ${mark}: ${d.top.message}${more}`,
    `${c.dim("fix")}      ${d.top.fix}`,
  ];
}

/**
 * The plain one-line status for runs whose stdout is not a terminal, printed every few seconds:
 * no colours, no escape codes.
 *
 * @example
 * ```ts ignore
 * import { renderStatusLine } from "./_receive_view.ts";
 * renderStatusLine(state);
 * // "[6.0s] RECEIVING (*, 239.1.2.3) on lo: 150 packets, 25 pps, 40.00 kbps, lost 0, …"
 * ```
 *
 * @param state What to show.
 * @returns One line without a newline.
 */
export function renderStatusLine(state: ReceiveViewState): string {
  if ((state.groups?.length ?? 0) > 1) {
    return [statusLineOf(state), ...renderGroupLines(state.groups!)].join("\n");
  }
  return statusLineOf(state);
}

function statusLineOf(state: ReceiveViewState): string {
  const t = state.summary.totals;
  return `[${formatDuration(state.elapsedS)}] ${state.summary.status} ${joinText(state)} on ` +
    `${state.interface ?? "routing default"}: ${t.packets} packets, ` +
    `${formatNumber(state.rate.pps)} pps, ${formatBitrate(state.rate.bps)}, lost ${t.lost}, ` +
    `dup ${t.duplicates}, reord ${t.reordered}, restarts ${t.restarts}, ` +
    `foreign ${t.foreign}, stalls ${t.stalls}, senders ${state.summary.senders.length}`;
}

/**
 * The line printed once after joining on a non-terminal run.
 *
 * @example
 * ```ts ignore
 * import { renderStartLine } from "./_receive_view.ts";
 * renderStartLine(state); // "mcast-receive 0.1.0: joined (*, 239.1.2.3) port 19779 on lo, IGMPv3"
 * ```
 *
 * @param state What to show.
 * @returns One line without a newline.
 */
export function renderStartLine(state: ReceiveViewState): string {
  const until = state.durationS > 0
    ? `for ${formatDuration(state.durationS)}`
    : "until interrupted";
  return `mcast-receive ${state.version}: joined ${joinText(state)} port ${state.port} on ` +
    `${state.interface ?? "the routing default interface"}, ${state.membership}; ` +
    `receiving ${until}`;
}

function senderLines(s: SenderJson, latency: LatencyMs | undefined, c: Colors): string[] {
  const unique = s.packets - s.duplicates;
  const hops = describeHops(s.ttl);
  const dscp = describeDscp(s.dscp);
  return [
    `  ${c.bold(s.source)}  ${c.dim("id")} ${s.sender_id}  ${c.dim("seq")} ${s.first_seq}` +
    `..${s.last_seq}`,
    `    packets ${s.packets}  lost ${warnIf(s.lost, c)} ` +
    `(${formatPercent(lossPercent(s.lost, unique))})  dup ${warnIf(s.duplicates, c)}  ` +
    `reord ${warnIf(s.reordered, c)}  jitter ${s.jitter_ms.toFixed(3)} ms`,
    `    ${c.dim("TTL ")}  ${s.ttl.hops === null ? c.yellow(hops) : c.cyan(hops)}`,
    `    ${c.dim("DSCP")}  ${
      s.dscp.remarked === true
        ? c.red(c.bold(dscp))
        : s.dscp.remarked === null
        ? c.yellow(dscp)
        : c.green(dscp)
    }`,
    ...(latency === undefined ? [] : [
      `    ${c.dim("delay")} ${formatMs(latency.avg)} avg, ${formatMs(latency.min)} min, ` +
      `${formatMs(latency.max)} max ${c.dim("(one-way, same host)")}`,
    ]),
  ];
}

function gapLine(gap: GapJson, ongoing: boolean, c: Colors): string {
  const at = gap.started_at === null ? "unknown time" : `${gap.started_at.slice(11, 23)} UTC`;
  const how = ongoing
    ? c.red(`silent for ${formatDuration(gap.duration_s)} so far`)
    : `silent ${formatDuration(gap.duration_s)}`;
  return `${at}  ${how}`;
}

function statusBadge(status: ReceiverStatus, c: Colors): string {
  const text = ` ${status} `;
  switch (status) {
    case "RECEIVING":
      return c.bold(c.green(text));
    case "STALLED":
      return c.bold(c.red(text));
    default:
      return c.bold(c.yellow(text));
  }
}

/**
 * The join as text: `(*, 239.1.2.3) ASM`, `(10.0.0.1, 232.1.1.1) SSM`,
 * `(* except 10.0.0.2, 239.1.2.3) EXCLUDE`; several groups are named by their form.
 *
 * @example
 * ```ts ignore
 * joinText(state); // "(10.0.0.1, 10.0.0.2, 232.1.1.1) SSM"
 * ```
 *
 * @param state What to show.
 * @returns The text.
 */
export function joinText(state: ReceiveViewState): string {
  const group = state.groupsText ?? state.group;
  const sources = state.sources ?? (state.source === null ? [] : [state.source]);
  const exclude = state.exclude ?? [];
  if (sources.length > 0) return `(${sources.join(", ")}, ${group}) SSM`;
  if (exclude.length > 0) return `(* except ${exclude.join(", ")}, ${group}) EXCLUDE`;
  return `(*, ${group}) ASM`;
}

function dscpLabel(value: string | number): string {
  return typeof value === "string" ? value.toUpperCase() : String(value);
}

function warnIf(value: number, c: Colors): string {
  return value > 0 ? c.yellow(String(value)) : String(value);
}

function formatPercent(value: number): string {
  return `${value.toFixed(2)}%`;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "0";
  return value >= 100 ? String(Math.round(value)) : String(Number(value.toFixed(1)));
}

function formatMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}
