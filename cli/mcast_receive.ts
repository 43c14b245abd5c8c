/**
 * `mcast-receive`: join a multicast group (any-source `(*,G)` or source-specific `(S,G)`, IPv4 or
 * IPv6) and show what arrives — per MCAS sender: loss, duplicates, reordering, restarts, jitter,
 * hop count from the TTL, DSCP remarking — with a live dashboard on a terminal, a plain status
 * line otherwise, and one JSON summary object with `--json`. Lab expectations (`--min-packets`,
 * `--max-loss`, `--expect-dscp`, `--expect-hops`) turn the run into a pass (exit 0) or fail
 * (exit 3) for a grading script. CONTRACT "mcast-receive".
 *
 * ```sh
 * deno task mcast-receive 239.1.2.3                     # ASM (*,G), IGMPv3
 * deno task mcast-receive 232.1.1.1 10.0.0.1 -i eth1    # SSM (S,G)
 * deno task mcast-receive 239.1.2.3 --duration 10 --json --min-packets 200 --expect-hops 1
 * ```
 *
 * IGMP/MLD version: `--igmp-version` (default 3) / `--mld-version` (default 2) is written to
 * `/proc/sys/net/ipv{4,6}/conf/<iface>/force_{igmp,mld}_version` on the join interface when it
 * differs from what the kernel would use, and put back on every exit path (end of `--duration`,
 * Ctrl-C, SIGTERM, SIGHUP, error). That needs root; without it the tool warns once and goes on
 * with the kernel's version. Without `--interface` the join interface is the one the kernel's
 * main routing table gives for the group (`/proc/net/route`, `/proc/net/ipv6_route`: longest
 * prefix, then lowest metric); the tool joins on that interface explicitly so that the forced
 * version and the join are on the same interface. When no route matches, the kernel chooses
 * (and usually fails with "no such device"), and the version is not forced (warned when a
 * non-default version was asked for).
 *
 * @module
 */

import { createProgram, EXIT, integerIn, numberIn, parser, runTool, VERSION } from "./_cli.ts";
import { colors, LiveView, StatusLines } from "./_dashboard.ts";
import {
  NO_COLORS,
  RateHistory,
  type ReceiveViewState,
  renderDashboard,
  renderStartLine,
  renderStatusLine,
} from "./_receive_view.ts";
import {
  type AddressFamily,
  formatAddress,
  isMulticast,
  parseAddress,
  type ParsedAddress,
} from "../lib/address.ts";
import { parseDscp } from "../lib/dscp.ts";
import { InvalidValueError } from "../lib/errors.ts";
import { ForcedMembershipVersion, validateMembershipVersion } from "../lib/igmp_version.ts";
import { BatchRecorder } from "../lib/batch_recorder.ts";
import { formatSenderId } from "../lib/mcas.ts";
import {
  evaluateExpectations,
  type ExpectationFlags,
  type ExpectationResult,
  expectationsMet,
  hasExpectations,
} from "../lib/expectations.ts";
import { OperationalMembershipVersion } from "../lib/membership_version.ts";
import { readRouteInterface } from "../lib/proc_route.ts";
import { ReceiverStats } from "../lib/receiver_stats.ts";
import type { ReceiverSummaryJson } from "../lib/receiver_summary.ts";
import { round } from "../lib/_numbers.ts";
import { DEFAULT_PORT } from "../lib/mcas.ts";
import { Subscription } from "../lib/subscription.ts";
import { monotonicNs, realtimeOffsetNs } from "../lib/clock.ts";
import {
  interfaceForGroup,
  listInterfaces,
  type NetworkInterface,
  resolveInterface,
} from "../lib/interfaces.ts";
import { checkSource } from "../lib/source_filter.ts";

const NAME = "mcast-receive";
const TICK_MS = 250;
const STATUS_LINE_MS = 2000;
const MEMBERSHIP_REFRESH_MS = 2000;
const YIELD_EVERY_MS = 50;
const MAX_TIMER_MS = 2 ** 31 - 1;
const SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The parsed command line, before any check that needs the family of the group. */
interface ReceiveArgs {
  group: ParsedAddress;
  groupText: string;
  source?: string;
  igmpVersion?: number;
  mldVersion?: number;
  port: number;
  interface?: string;
  stallTimeout: number;
  duration: number;
  expectations: ExpectationFlags;
  quiet: boolean;
  json: boolean;
}

/** The `--json` summary, CONTRACT "mcast-receive", keys in the contract's order. */
interface ReceiveSummaryJson {
  tool: "mcast-receive";
  version: string;
  group: string;
  source: string | null;
  port: number;
  interface: string | null;
  igmp_version?: number | null;
  mld_version?: number | null;
  duration_s: number;
  status: ReceiverSummaryJson["status"];
  totals: ReceiverSummaryJson["totals"];
  senders: ReceiverSummaryJson["senders"];
  gaps: ReceiverSummaryJson["gaps"];
  expectations?: ExpectationResult[];
}

const EXAMPLES = [
  "mcast-receive 239.1.2.3                          # ASM (*,G) join, IGMPv3, dashboard",
  "mcast-receive 232.1.1.1 10.0.0.1 -i eth1         # SSM (S,G) join on eth1",
  "mcast-receive 239.1.2.3 --igmp-version 2         # force IGMPv2 (root), restored on exit",
  "mcast-receive ff3e::1234 fd00::1 -i eth1         # IPv6 SSM, MLDv2",
  "mcast-receive 239.1.2.3 --duration 10 --json | jq .totals",
  "mcast-receive 239.1.2.3 --duration 10 --quiet --min-packets 200 --max-loss 1 \\",
  "    --expect-dscp ef --expect-hops 1 && echo PASS    # lab grading: exit 3 when unmet",
];

const NOTES = `
Notes:
  Exit codes: 0 ok, 1 runtime failure, 2 bad argument, 3 a lab expectation was not met.
  Hops = TTL the sender set (in the MCAS header) minus TTL received; DSCP REMARKED = received
  DSCP differs from the one the sender set. --expect-dscp / --expect-hops need every sender to
  match and are unmet when no sender was seen at all.
  --igmp-version / --mld-version are written to force_igmp_version / force_mld_version of the
  join interface when root and restored on exit; without root the kernel's version is used.
  On a terminal a dashboard is redrawn in place; otherwise a status line every ${
  STATUS_LINE_MS / 1000
} s
  and a summary at the end (--quiet: summary only; --json: only the JSON object on stdout).
  Ctrl-C (SIGINT) or SIGTERM ends the run with the summary.
`;

function parseArgs(argv: string[]): ReceiveArgs | null {
  let parsed: ReceiveArgs | null = null;
  const program = createProgram(
    NAME,
    "Join a multicast group (ASM or SSM, IPv4 or IPv6) and show per-sender loss, hops and DSCP",
    EXAMPLES,
  )
    .argument("<group>", "IPv4 or IPv6 multicast group", parser(parseGroup))
    .argument("[source]", "source address for an SSM (S,G) join; absent: ASM (*,G)")
    .option(
      "--igmp-version <v>",
      "IGMP version 1, 2 or 3 (IPv4; default 3)",
      integerIn("IGMP version", 1, 3),
    )
    .option(
      "--mld-version <v>",
      "MLD version 1 or 2 (IPv6; default 2)",
      integerIn("MLD version", 1, 2),
    )
    .option("-p, --port <port>", `UDP port (default ${DEFAULT_PORT})`, integerIn("port", 1, 65535))
    .option("-i, --interface <iface>", "join on this interface: name, index or local address")
    .option(
      "--stall-timeout <s>",
      "seconds without a packet before STALLED (default 3.0)",
      numberIn("stall timeout", 0.1, 86400),
    )
    .option(
      "-d, --duration <s>",
      "stop after this many seconds; 0 = until interrupted (default 0)",
      numberIn("duration", 0, 31_536_000),
    )
    .option(
      "--min-packets <n>",
      "exit 3 unless at least N MCAS packets arrived",
      integerIn("min packets", 0, Number.MAX_SAFE_INTEGER),
    )
    .option("--max-loss <pct>", "exit 3 if loss exceeds PCT percent", numberIn("max loss", 0, 100))
    .option(
      "--expect-dscp <d>",
      "exit 3 unless every sender's received DSCP is D (0..63 or be, cs0..cs7, af11..af43, ef, va, le)",
      parser(parseDscp),
    )
    .option(
      "--expect-hops <n>",
      "exit 3 unless every sender is N hops away",
      integerIn("expected hops", 0, 255),
    )
    .option("-q, --quiet", "no dashboard and no status lines, only the summary at the end")
    .option("--json", "print only one JSON summary object on stdout at the end")
    .addHelpText("after", NOTES)
    .action((group: ParsedAddress, source: string | undefined) => {
      const o = program.opts<{
        igmpVersion?: number;
        mldVersion?: number;
        port?: number;
        interface?: string;
        stallTimeout?: number;
        duration?: number;
        minPackets?: number;
        maxLoss?: number;
        expectDscp?: number;
        expectHops?: number;
        quiet?: boolean;
        json?: boolean;
      }>();
      parsed = {
        group,
        groupText: formatAddress(group.bytes),
        source,
        igmpVersion: o.igmpVersion,
        mldVersion: o.mldVersion,
        port: o.port ?? DEFAULT_PORT,
        interface: o.interface,
        stallTimeout: o.stallTimeout ?? 3,
        duration: o.duration ?? 0,
        expectations: {
          minPackets: o.minPackets,
          maxLoss: o.maxLoss,
          expectDscp: o.expectDscp,
          expectHops: o.expectHops,
        },
        quiet: o.quiet ?? false,
        json: o.json ?? false,
      };
    });
  program.parse(argv, { from: "user" });
  return parsed;
}

function parseGroup(text: string): ParsedAddress {
  const parsed = parseAddress(text, { what: "group" });
  if (!isMulticast(parsed.bytes)) {
    throw new InvalidValueError("group", text, "an IPv4 or IPv6 multicast address");
  }
  return parsed;
}

/** The checks that need more than one argument: family of source and version flags, SSM. */
function checkCombination(args: ReceiveArgs): { family: AddressFamily; version: number } {
  const family = args.group.family;
  const groupText = args.groupText;
  if (args.source !== undefined) checkSource(args.source, family);
  if (family === "IPv4" && args.mldVersion !== undefined) {
    throw new InvalidValueError(
      "--mld-version",
      args.mldVersion,
      `no MLD version for the IPv4 group ${groupText}: use --igmp-version`,
    );
  }
  if (family === "IPv6" && args.igmpVersion !== undefined) {
    throw new InvalidValueError(
      "--igmp-version",
      args.igmpVersion,
      `no IGMP version for the IPv6 group ${groupText}: use --mld-version`,
    );
  }
  const version = family === "IPv4" ? args.igmpVersion ?? 3 : args.mldVersion ?? 2;
  validateMembershipVersion(version, { family, source: args.source ?? null });
  return { family, version };
}

/**
 * Runs `mcast-receive` with the given arguments.
 *
 * @example
 * ```ts ignore
 * import { main } from "./mcast_receive.ts";
 * const code = await main(["239.1.2.3", "--interface", "lo", "--duration", "2", "--json"]);
 * ```
 *
 * @param args The command-line arguments (without the program name).
 * @returns The exit code: 0, or 3 when an expectation was not met (errors are thrown: the
 *   caller, `runTool`, maps them to 1 or 2).
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === null) return EXIT.ok; // --help / --version were handled by commander
  const { family, version } = checkCombination(parsed);
  // An unknown interface is a usage error (InterfaceNotFoundError → exit 2), found before joining;
  // a %zone on an IPv6 group names the interface too, and both must agree.
  const named = interfaceForGroup(parsed.group, parsed.interface);
  const chosen = named.index === 0 ? routingInterface(parsed.group) : resolveInterface(named.index);
  const explicitVersion = family === "IPv4"
    ? parsed.igmpVersion !== undefined
    : parsed.mldVersion !== undefined;
  return await receive(parsed, { family, version, chosen, explicitVersion });
}

interface Plan {
  family: AddressFamily;
  version: number;
  chosen: NetworkInterface | null;
  explicitVersion: boolean;
}

async function receive(args: ReceiveArgs, plan: Plan): Promise<number> {
  const protocol = plan.family === "IPv4" ? "igmp" : "mld";
  const label = protocol === "igmp" ? "IGMP" : "MLD";
  const warn = (message: string) => console.error(`${NAME}: warning: ${message}`);

  const stop = new AbortController();
  let sub: Subscription | null = null;
  // Registered before the IGMP/MLD force (whose own listener restores the sysctl), so that on a
  // signal the leave goes out first, in the forced version.
  const onSignal = () => {
    if (stop.signal.aborted) return;
    try {
      sub?.leave();
    } catch {
      // Closing drops the membership anyway.
    }
    stop.abort();
  };
  const listening: Deno.Signal[] = [];
  for (const signal of SIGNALS) {
    try {
      Deno.addSignalListener(signal, onSignal);
      listening.push(signal);
    } catch {
      // Not on this OS.
    }
  }

  let forced: ForcedMembershipVersion | null = null;
  let view: LiveView | null = null;
  let lines: StatusLines | null = null;
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    if (plan.chosen !== null) {
      forced = ForcedMembershipVersion.apply(plan.chosen.name, {
        protocol,
        version: plan.version,
        onWarning: warn,
        onSignal: "restore",
      });
    } else if (plan.explicitVersion) {
      warn(
        `no route for ${args.groupText} to tell the join interface: ${label}v${plan.version} ` +
          "not forced (give --interface)",
      );
    }

    const zone = args.group.zone === undefined ? "" : `%${args.group.zone}`;
    sub = new Subscription(`${args.groupText}${zone}`, {
      source: args.source,
      port: args.port,
      interface: plan.chosen?.index ?? 0,
    });
    // Arrivals go on CLOCK_MONOTONIC, the clock MCAS senders stamp: a sender on this host then
    // has a one-way latency; the offset turns arrival times back into dates for the gap log.
    const clockOffsetNs = realtimeOffsetNs();
    const stats = new ReceiverStats({
      stallTimeoutS: args.stallTimeout,
      sharedClock: true,
      epochOffsetNs: clockOffsetNs,
    });
    const localAddresses = new Set(
      listInterfaces().flatMap((i) => i.addresses.map((a) => a.address)),
    );
    const rate = new RateHistory(30);
    const startMs = performance.now();
    const membership = new OperationalMembershipVersion(sub, {
      protocol,
      requested: plan.version,
      forced,
    });

    const state = (final: boolean): ReceiveViewState => {
      const summary = stats.summary();
      return {
        version: VERSION,
        group: sub!.group,
        source: sub!.source,
        port: sub!.port,
        interface: membership.interfaceName,
        membership: membership.label,
        elapsedS: (performance.now() - startMs) / 1000,
        durationS: args.duration,
        rate: rate.view(),
        summary,
        // Only a sender on this host shares our monotonic clock.
        latencyMs: new Map(
          stats.senders()
            .filter((s) => s.latencyMs !== null && localAddresses.has(s.source))
            .map((s) => [formatSenderId(s.senderId), s.latencyMs!]),
        ),
        expectations: hasExpectations(args.expectations)
          ? evaluateExpectations(args.expectations, stats)
          : null,
        final,
      };
    };

    const tick = () => {
      stats.tick(monotonicNs());
      const t = stats.totals();
      rate.sample(performance.now(), t.packets + t.foreign, t.bytes + t.foreignBytes);
      // Durations beyond what one timer can hold (about 24.8 days) end here.
      if (args.duration > 0 && performance.now() - startMs >= args.duration * 1000) stop.abort();
    };
    timers.push(setInterval(tick, TICK_MS));
    timers.push(setInterval(() => membership.refresh(), MEMBERSHIP_REFRESH_MS));
    if (args.duration > 0 && args.duration * 1000 <= MAX_TIMER_MS) {
      timers.push(setTimeout(() => stop.abort(), args.duration * 1000));
    }

    const dashboard = !args.json && !args.quiet && Deno.stdout.isTerminal();
    let frame: ReceiveViewState | null = null;
    if (dashboard) {
      view = new LiveView(() => renderDashboard(frame ?? state(false), { colors }));
      view.start();
    } else if (!args.json && !args.quiet) {
      console.log(renderStartLine(state(false)));
      lines = new StatusLines(() => renderStatusLine(state(false)), STATUS_LINE_MS);
      lines.start();
    }

    await receiveLoop(
      new BatchRecorder(stats, { arrivalOffsetNs: clockOffsetNs }),
      sub,
      stop.signal,
    );

    for (const timer of timers) clearInterval(timer);
    timers.length = 0;
    lines?.stop();
    tick();
    membership.refresh();
    const final = state(true);
    const results = final.expectations ?? [];
    if (view !== null) {
      // The last frame left on screen is the final summary.
      frame = final;
      view.stop();
      view = null;
    } else if (args.json) {
      console.log(JSON.stringify(jsonSummary(final, membership, protocol), null, 2));
    } else {
      console.log(renderDashboard(final, { colors: NO_COLORS }));
    }
    for (const result of results) {
      if (!result.ok) {
        console.error(`${NAME}: expectation not met: ${result.name}: ${result.detail}`);
      }
    }
    return expectationsMet(results) ? EXIT.ok : EXIT.expectation;
  } finally {
    for (const timer of timers) clearInterval(timer);
    lines?.stop();
    view?.stop();
    for (const signal of listening) {
      try {
        Deno.removeSignalListener(signal, onSignal);
      } catch {
        // Already gone.
      }
    }
    // Leave (with the socket) before the version is put back, so the leave uses the forced one.
    sub?.close();
    forced?.restore();
  }
}

/**
 * Receives until `signal` fires or the subscription is closed, counting every datagram. Does not
 * allocate per datagram: the header, metadata and arrival objects are reused.
 */
async function receiveLoop(
  recorder: BatchRecorder,
  sub: Subscription,
  signal: AbortSignal,
): Promise<void> {
  let lastYield = performance.now();
  for await (const batch of sub.batches({ signal, waitMs: 100 })) {
    recorder.record(batch);
    // A socket that never runs dry would starve the timers (ticks, redraws) and signal
    // listeners: give the event loop a turn now and then.
    const now = performance.now();
    if (now - lastYield >= YIELD_EVERY_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = performance.now();
    }
  }
}

function jsonSummary(
  state: ReceiveViewState,
  membership: OperationalMembershipVersion,
  protocol: "igmp" | "mld",
): ReceiveSummaryJson {
  const summary = state.summary;
  const out: ReceiveSummaryJson = {
    tool: "mcast-receive",
    version: VERSION,
    group: state.group,
    source: state.source,
    port: state.port,
    interface: state.interface,
    ...(protocol === "igmp"
      ? { igmp_version: membership.version }
      : { mld_version: membership.version }),
    duration_s: round(state.elapsedS, 3),
    status: summary.status,
    totals: summary.totals,
    senders: summary.senders,
    gaps: summary.gaps,
  };
  if (state.expectations !== null) out.expectations = [...state.expectations];
  return out;
}

/**
 * The interface the main routing table gives for the group (what the kernel picks for a join
 * without an interface, short of policy routing), or null when no route matches.
 */
function routingInterface(group: ParsedAddress): NetworkInterface | null {
  const name = readRouteInterface(group);
  return name === null ? null : listInterfaces().find((i) => i.name === name) ?? null;
}

if (import.meta.main) await runTool(NAME, main);
