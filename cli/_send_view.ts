// What mcast-send shows: the live dashboard (a terminal), the plain status line and the final
// summary line, from the run's progress (the publication's counters and the run's clock).

import { colors, formatBitrate, formatDuration, progressBar, sparkline } from "./_dashboard.ts";
import { monotonicClock } from "../lib/pacer.ts";
import type { Publication } from "../lib/publication.ts";
import { formatRate, type Rate } from "../lib/rate.ts";

const NAME = "mcast-send";

/** What the dashboard needs of the command line. */
export interface SendViewOptions {
  /** The rate as given (for "1.00 Mbps" beside the packet rate). */
  rate: Rate;
  /** `--count`, if given. */
  count?: number;
  /** UDP payload bytes per datagram. */
  size: number;
  /** Seconds to send; 0 = until the count or a signal. */
  durationS: number;
}

/** The figures of the summary line (and of the `--json` summary, which has more). */
export interface SendSummaryLine {
  /** Target packets per second, null for `max`. */
  rate_pps: number | null;
  /** Seconds the run took. */
  duration_s: number;
  /** Datagrams sent. */
  packets_sent: number;
  /** UDP payload bytes sent. */
  bytes_sent: number;
  /** Sends the kernel refused (would-block is not an error: it waits). */
  send_errors: number;
  /** packets_sent / duration_s. */
  achieved_pps: number;
}

/** How the run stands, for the views. */
export type RunState = "SENDING" | "DONE" | "INTERRUPTED" | "FAILED";

/** Running figures shared by the views: the publication's counters and the run's clock. */
export class Progress {
  state: RunState = "SENDING";
  #startNs: bigint;
  #endNs: bigint | null = null;
  readonly #pub: Publication;

  constructor(pub: Publication) {
    this.#pub = pub;
    this.#startNs = monotonicClock.now();
  }

  /** Starts the clock (again) now. */
  start(): void {
    this.#startNs = monotonicClock.now();
  }

  /** Stops the clock. */
  finish(state: RunState): void {
    this.state = state;
    this.#endNs ??= monotonicClock.now();
  }

  elapsedS(): number {
    return Number((this.#endNs ?? monotonicClock.now()) - this.#startNs) / 1e9;
  }

  packets(): number {
    return this.#pub.counters.packetsSent;
  }

  bytes(): number {
    return this.#pub.counters.bytesSent;
  }

  errors(): number {
    return this.#pub.counters.sendErrors;
  }
}

const STATE_COLORS: Readonly<Record<RunState, (text: string) => string>> = {
  SENDING: colors.green,
  DONE: colors.cyan,
  INTERRUPTED: colors.yellow,
  FAILED: colors.red,
};

export function formatPps(pps: number): string {
  return pps >= 100 ? `${Math.round(pps).toLocaleString("en-US")} pps` : `${pps.toFixed(1)} pps`;
}

export function targetText(options: SendViewOptions, ratePps: number | null): string {
  if (ratePps === null) return "max (unpaced)";
  const given = options.rate.kind === "bps" ? ` (${formatRate(options.rate)})` : "";
  return `${formatPps(ratePps)}${given}`;
}

export function statusLine(group: string, progress: Progress, ratePps: number | null): string {
  const elapsed = progress.elapsedS();
  const packets = progress.packets();
  const pps = elapsed > 0 ? packets / elapsed : 0;
  const target = ratePps === null ? "max" : formatPps(ratePps);
  return `${NAME}: ${group} sent ${packets} packets, ${progress.bytes()} bytes in ${
    elapsed.toFixed(1)
  }s: ${formatPps(pps)} (target ${target}), ${progress.errors()} errors`;
}

export function summaryLine(summary: SendSummaryLine, state: RunState): string {
  const target = summary.rate_pps === null ? "max" : formatPps(summary.rate_pps);
  return `${NAME}: ${state.toLowerCase()}: ${summary.packets_sent} packets, ${summary.bytes_sent} bytes in ${
    summary.duration_s.toFixed(3)
  }s: ${formatPps(summary.achieved_pps)} (target ${target}), ${summary.send_errors} errors`;
}

/** Renders the dashboard frame; keeps a short history for the recent rate and its sparkline. */
export function dashboard(
  header: { destination: string; details: string },
  options: SendViewOptions,
  ratePps: number | null,
  progress: Progress,
): () => string {
  const history: { t: number; packets: number }[] = [];
  const rates: number[] = [];
  const c = colors;
  return () => {
    const t = progress.elapsedS();
    const packets = progress.packets();
    history.push({ t, packets });
    while (history.length > 2 && t - history[0].t > 1.0) history.shift();
    const first = history[0];
    const recent = t > first.t ? (packets - first.packets) / (t - first.t) : 0;
    rates.push(recent);
    if (rates.length > 40) rates.shift();
    const average = t > 0 ? packets / t : 0;
    const bits = (pps: number) => formatBitrate(pps * options.size * 8);
    const target = ratePps === null
      ? c.yellow("max (unpaced)")
      : `${formatPps(ratePps)} ${c.dim(`(${bits(ratePps)})`)}`;
    const off = ratePps !== null && t > 2 && Math.abs(average - ratePps) / ratePps > 0.02;
    const achieved = `${formatPps(recent)} ${c.dim(`(${bits(recent)})`)}  avg ${
      (off ? c.yellow : c.green)(formatPps(average))
    }`;
    const errors = progress.errors();
    let fraction = 0;
    let goal = "";
    if (options.durationS > 0) {
      fraction = t / options.durationS;
      goal = ` / ${formatDuration(options.durationS)}`;
    }
    if (options.count !== undefined) {
      const byCount = packets / options.count;
      if (byCount >= fraction) {
        fraction = byCount;
        goal = ` (${packets.toLocaleString("en-US")} of ${options.count.toLocaleString("en-US")})`;
      }
    }
    const bar = options.durationS > 0 || options.count !== undefined
      ? `  ${c.cyan(progressBar(fraction, 30))} ${Math.floor(Math.min(1, fraction) * 100)}%`
      : c.dim("  until Ctrl-C");
    return [
      `${c.bold(NAME)}  ${c.bold(header.destination)}  ${
        STATE_COLORS[progress.state](`● ${progress.state}`)
      }`,
      `  ${header.details}`,
      "",
      `  target    ${target}`,
      `  achieved  ${achieved}  ${c.cyan(sparkline(rates))}`,
      `  sent      ${packets.toLocaleString("en-US")} packets  ${
        progress.bytes().toLocaleString("en-US")
      } bytes  errors ${errors > 0 ? c.red(String(errors)) : "0"}`,
      `  elapsed   ${formatDuration(t)}${goal}${bar}`,
      "",
      c.dim(progress.state === "SENDING" ? "  Ctrl-C to stop" : ""),
    ].join("\n");
  };
}
