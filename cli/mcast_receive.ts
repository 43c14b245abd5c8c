/**
 * `mcast-receive`: join one or many multicast groups (any-source `(*,G)`, source-specific with
 * one source or an INCLUDE list, or an EXCLUDE list; IPv4 or IPv6) and show what arrives — per
 * group and per MCAS sender: loss, duplicates, reordering, restarts, jitter, hop count from the
 * TTL, DSCP remarking, over every packet — with a live dashboard on a terminal, plain status
 * lines otherwise, and one JSON summary object with `--json`. Lab expectations (`--min-packets`,
 * `--max-loss`, `--expect-dscp`, `--expect-hops`) turn the run into a pass (exit 0) or fail
 * (exit 3) for a grading script. CONTRACT "mcast-receive".
 *
 * ```sh
 * deno task mcast-receive 239.1.2.3                      # ASM (*,G), IGMPv3
 * deno task mcast-receive 232.1.1.1 10.0.0.1 -i eth1     # SSM (S,G)
 * deno task mcast-receive 239.1.1.1+63 -i eth1           # 64 groups, a socket each
 * deno task mcast-receive 239.1.2.3 --exclude 10.0.0.2   # any source but 10.0.0.2
 * ```
 *
 * The IGMP/MLD version: `--igmp-version` (default 3) / `--mld-version` (default 2) is forced on
 * the join interface when root (shared with other receivers forcing it, restored after the last
 * one: `lib/igmp_version.ts`); the version in force — as the kernel computes it from conf/all,
 * the interface and the queriers heard — is what the run reports, and a source-specific or
 * EXCLUDE join it cannot express is refused (exit 1) with the command that fixes it. Without
 * `--interface` the join interface is the one the main routing table gives for the group.
 *
 * @module
 */

import { createProgram, EXIT, integerIn, numberIn, parser, runTool, VERSION } from "./_cli.ts";
import { colors, LiveView, StatusLines } from "./_dashboard.ts";
import { RateHistory } from "./_rate_history.ts";
import { ReceiveDiagnosis } from "./_receive_diagnosis.ts";
import { overallStatus, receiveSummary, sumTotals } from "./_receive_summary.ts";
import { abortOnSignals } from "./_runtime.ts";
import {
  type GroupView,
  NO_COLORS,
  type ReceiveViewState,
  renderDashboard,
  renderStartLine,
  renderStatusLine,
} from "./_receive_view.ts";
import type { AddressFamily, ParsedAddress } from "../lib/address.ts";
import { monotonicNs } from "../lib/clock.ts";
import { parseDscp } from "../lib/dscp.ts";
import { InvalidValueError, McastError, SocketError } from "../lib/errors.ts";
import {
  evaluateExpectations,
  type ExpectationFlags,
  expectationsMet,
  hasExpectations,
} from "../lib/expectations.ts";
import { checkUsableGroup, groupWarnings } from "../lib/group_advice.ts";
import { type GroupList, parseGroupList } from "../lib/group_list.ts";
import { ForcedMembershipVersion, validateMembershipVersion } from "../lib/igmp_version.ts";
import {
  interfaceForGroup,
  linkState,
  listInterfaces,
  type NetworkInterface,
  resolveInterface,
} from "../lib/interfaces.ts";
import { DEFAULT_PORT, formatSenderId } from "../lib/mcas.ts";
import { MulticastReceiver } from "../lib/multicast_receiver.ts";
import { OperationalMembershipVersion, readVersionInForce } from "../lib/membership_version.ts";
import { readRouteInterface } from "../lib/proc_route.ts";
import type { ReceiverSummaryJson } from "../lib/receiver_summary.ts";
import { checkSource } from "../lib/source_filter.ts";
import { sourceJoinRefusal } from "../lib/version_in_force.ts";

const NAME = "mcast-receive";
const TICK_MS = 250;
// The longest wait of the receive loop: how late it sees the end of --duration or a signal.
const RUN_WAIT_MS = 100;
const STATUS_LINE_MS = 2000;
const MEMBERSHIP_REFRESH_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The parsed command line, before any check that needs the family of the groups. */
interface ReceiveArgs {
  groups: GroupList;
  groupsText: string;
  sources: string[];
  exclude: string[];
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

const EXAMPLES = [
  "mcast-receive 239.1.2.3                          # ASM (*,G) join, IGMPv3, dashboard",
  "mcast-receive 232.1.1.1 10.0.0.1 -i eth1         # SSM (S,G) join on eth1",
  "mcast-receive 232.1.1.1 10.0.0.1,10.0.0.2        # one INCLUDE filter of two sources",
  "mcast-receive 239.1.2.3 --exclude 10.0.0.2       # any source but 10.0.0.2 (EXCLUDE)",
  "mcast-receive 239.1.1.1+63 -i eth1               # 64 groups, counted one by one",
  "mcast-receive 239.1.2.3 --igmp-version 2         # force IGMPv2 (root), restored on exit",
  "mcast-receive ff3e::1234 fd00::1 -i eth1         # IPv6 SSM, MLDv2",
  "mcast-receive 239.1.2.3 --duration 10 --json | jq .totals",
  "mcast-receive 239.1.2.3 --duration 10 --quiet --min-packets 200 --max-loss 1 \\",
  "    --expect-dscp ef --expect-hops 1 && echo PASS    # lab grading: exit 3 when unmet",
];

const NOTES = `
Notes:
  Groups: G, G+N (G and the next N: 239.1.1.1+63 is 64 groups) or G1,G2,...; one socket per group.
  Exit codes: 0 ok, 1 runtime failure, 2 bad argument, 3 a lab expectation was not met.
  Hops = TTL the sender set (in the MCAS header) minus TTL received; DSCP REMARKED = a packet's
  received DSCP differs from the one its sender set. --expect-dscp / --expect-hops hold only if
  every packet of every sender matched, and are unmet when no sender was seen at all.
  --igmp-version / --mld-version are forced on the join interface when root (shared with other
  receivers there, restored after the last); the version reported is the one in force. A source
  or --exclude join needs IGMPv3/MLDv2: refused (exit 1) when a host-wide setting or a querier
  forces an older version, with the command that fixes it.
  On a terminal a dashboard is redrawn in place; otherwise a status line every ${
  STATUS_LINE_MS / 1000
} s
  and a summary at the end (--quiet: summary only; --json: only the JSON object on stdout).
  Ctrl-C (SIGINT), SIGTERM or SIGHUP ends the run with the summary.
`;

function parseArgs(argv: string[]): ReceiveArgs | null {
  let parsed: ReceiveArgs | null = null;
  const program = createProgram(
    NAME,
    "Join multicast groups (ASM, SSM or EXCLUDE, IPv4 or IPv6) and show per-sender loss, hops and DSCP",
    EXAMPLES,
  )
    .argument("<group>", "group: G, G+N or G1,G2,... (IPv4 or IPv6)", parser(parseGroupList))
    .argument("[source]", "source(s) of an SSM join: S or S1,S2,...; absent: any source")
    .option("--exclude <S,...>", "EXCLUDE-mode join: any source but these (IGMPv3/MLDv2)")
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
      "exit 3 unless every packet's received DSCP is D (0..63 or be, cs0..cs7, af11..af43, ef, va, le)",
      parser(parseDscp),
    )
    .option(
      "--expect-hops <n>",
      "exit 3 unless every packet arrived N hops away",
      integerIn("expected hops", 0, 255),
    )
    .option("-q, --quiet", "no dashboard and no status lines, only the summary at the end")
    .option("--json", "print only one JSON summary object on stdout at the end")
    .addHelpText("after", NOTES)
    .action((groups: GroupList, source: string | undefined, _opts: unknown, command) => {
      const o = program.opts<{
        exclude?: string;
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
        groups,
        groupsText: command.args[0],
        sources: list(source),
        exclude: list(o.exclude),
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

function list(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(",").map((part) => part.trim());
}

/** The checks that need more than one argument: sources, the version flags and the family. */
function checkCombination(args: ReceiveArgs): { family: AddressFamily; version: number } {
  const family = args.groups.family;
  const first = args.groups.groups[0];
  if (args.sources.length > 0 && args.exclude.length > 0) {
    throw new InvalidValueError(
      "--exclude",
      args.exclude.join(","),
      "either sources (an INCLUDE join) or --exclude (an EXCLUDE join), not both",
    );
  }
  for (const source of [...args.sources, ...args.exclude]) checkSource(source, family);
  for (const group of args.groups.groups) checkUsableGroup(group);
  if (family === "IPv4" && args.mldVersion !== undefined) {
    throw new InvalidValueError(
      "--mld-version",
      args.mldVersion,
      `no MLD version for the IPv4 group ${first}: use --igmp-version`,
    );
  }
  if (family === "IPv6" && args.igmpVersion !== undefined) {
    throw new InvalidValueError(
      "--igmp-version",
      args.igmpVersion,
      `no IGMP version for the IPv6 group ${first}: use --mld-version`,
    );
  }
  const version = family === "IPv4" ? args.igmpVersion ?? 3 : args.mldVersion ?? 2;
  if (args.exclude.length > 0 && version !== (family === "IPv4" ? 3 : 2)) {
    const name = family === "IPv4" ? "IGMP version" : "MLD version";
    throw new InvalidValueError(
      name,
      version,
      `${family === "IPv4" ? 3 : 2} for an EXCLUDE-mode join (--exclude): only ` +
        `${family === "IPv4" ? "IGMPv3" : "MLDv2"} reports carry source lists`,
    );
  }
  validateMembershipVersion(version, { family, source: args.sources[0] ?? null });
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
 * @returns The exit code: 0, or 3 when an expectation was not met, or 1 when the interface was
 *   lost (other errors are thrown: the caller, `runTool`, maps them to 1 or 2).
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === null) return EXIT.ok; // --help / --version were handled by commander
  const { family, version } = checkCombination(parsed);
  // An unknown interface is a usage error (InterfaceNotFoundError → exit 2), found before joining;
  // a %zone on an IPv6 group names the interface too, and both must agree.
  const named = interfaceForGroup(parsed.groups.first, parsed.interface);
  const chosen = named.index === 0
    ? routingInterface(parsed.groups.first)
    : resolveInterface(named.index);
  const explicitVersion = family === "IPv4"
    ? parsed.igmpVersion !== undefined
    : parsed.mldVersion !== undefined;
  const warn = (message: string) => console.error(`${NAME}: warning: ${message}`);
  const warnings = parsed.groups.groups.flatMap((group) =>
    groupWarnings(group, { use: "join", withSources: parsed.sources.length > 0 })
  );
  for (const warning of warnings.slice(0, 3)) warn(warning);
  if (warnings.length > 3) warn(`… and ${warnings.length - 3} more such warnings for other groups`);
  return await receive(parsed, { family, version, chosen, explicitVersion, warn });
}

interface Plan {
  family: AddressFamily;
  version: number;
  chosen: NetworkInterface | null;
  explicitVersion: boolean;
  warn: (message: string) => void;
}

async function receive(args: ReceiveArgs, plan: Plan): Promise<number> {
  const protocol = plan.family === "IPv4" ? "igmp" : "mld";
  const label = protocol === "igmp" ? "IGMP" : "MLD";
  const { warn, chosen } = plan;
  let receiver: MulticastReceiver | null = null;
  // On a signal, the leaves go out at once, while the forced version is still in force.
  using stop = abortOnSignals(() => {
    for (const channel of receiver?.groups ?? []) {
      try {
        channel.subscription.leave();
      } catch {
        // Closing drops the membership anyway.
      }
    }
  });

  let forced: ForcedMembershipVersion | null = null;
  let diagnosis: ReceiveDiagnosis | null = null;
  let view: LiveView | null = null;
  let lines: StatusLines | null = null;
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    if (chosen !== null) {
      const link = linkState(chosen);
      if (!link.up || !link.running) {
        warn(
          `${chosen.name} is ${link.up ? "up but has no carrier" : "down"}: nothing arrives ` +
            `until it is up${link.up ? " and connected" : ` (ip link set ${chosen.name} up)`}`,
        );
      }
      forced = ForcedMembershipVersion.apply(chosen.name, {
        protocol,
        version: plan.version,
        onWarning: warn,
        onNote: (note) => console.error(`${NAME}: note: ${note}`),
        onSignal: "restore",
      });
      const inForce = readVersionInForce(chosen.name, protocol);
      const refusal = sourceJoinRefusal(
        { group: args.groupsText, sources: args.sources, exclude: args.exclude },
        inForce,
      );
      if (refusal !== null) throw new McastError(refusal);
    } else if (plan.explicitVersion) {
      warn(
        `no route for ${
          args.groups.groups[0]
        } to tell the join interface: ${label}v${plan.version} ` +
          "not forced (give --interface)",
      );
    }

    const zone = args.groups.first.zone;
    const groups = zone === undefined
      ? args.groups.groups
      : args.groups.groups.map((g) => `${g}%${zone}`);
    try {
      receiver = new MulticastReceiver({
        groups,
        sources: args.sources,
        exclude: args.exclude,
        port: args.port,
        interface: chosen?.index ?? 0,
        stallTimeoutS: args.stallTimeout,
      });
    } catch (error) {
      throw noRouteHint(error, chosen, args);
    }
    const first = receiver.groups[0].subscription;
    const localAddresses = new Set(
      listInterfaces().flatMap((i) => i.addresses.map((a) => a.address)),
    );
    const rates = receiver.groups.map(() => new RateHistory(30));
    const total = new RateHistory(30);
    const foreign = new RateHistory(2);
    const startMs = performance.now();
    const membership = new OperationalMembershipVersion(first, {
      protocol,
      requested: plan.version,
      forced,
    });
    const several = receiver.groups.length > 1;
    const dashboard = !args.json && !args.quiet && Deno.stdout.isTerminal();
    const plain = !dashboard && !args.json && !args.quiet;
    diagnosis = new ReceiveDiagnosis({
      family: plan.family,
      interface: chosen?.name ?? membership.interfaceName,
      sources: args.sources,
      exclude: args.exclude,
      port: args.port,
      stallTimeoutS: args.stallTimeout,
      groups: receiver.groups.length,
      print: plain ? (line) => console.error(`${NAME}: ${line}`) : null,
      warn,
    });

    const state = (final: boolean): ReceiveViewState => {
      const channels = receiver!.groups;
      const summaries = channels.map((c) => c.stats.summary());
      const groupViews: GroupView[] = channels.map((c, i) => ({
        group: c.group,
        summary: summaries[i],
        rate: rates[i].view(),
      }));
      const summary: ReceiverSummaryJson = several
        ? {
          status: overallStatus(summaries.map((s) => s.status)),
          totals: sumTotals(summaries.map((s) => s.totals)),
          senders: summaries.flatMap((s) => s.senders),
          gaps: summaries.flatMap((s) => s.gaps),
        }
        : summaries[0];
      const senders = channels.flatMap((c) => c.stats.senders());
      const spans = senders.map((s) => [s.firstArrivalNs, s.lastArrivalNs] as const);
      const activeS = spans.length === 0 ? 0 : Number(
        spans.reduce((m, [, last]) => last > m ? last : m, 0n) -
          spans.reduce((m, [start]) => start < m ? start : m, spans[0][0]),
      ) / 1e9;
      return {
        version: VERSION,
        group: first.group,
        groupsText: several ? `${args.groupsText} (${channels.length} groups)` : undefined,
        source: first.source,
        sources: first.sources,
        exclude: first.exclude,
        port: first.port,
        interface: membership.interfaceName,
        membership: membership.label,
        elapsedS: (performance.now() - startMs) / 1000,
        durationS: args.duration,
        rate: total.view(),
        foreignPps: foreign.view().pps,
        activeS,
        summary,
        groups: several ? groupViews : [],
        querier: diagnosis!.querierView(),
        diagnosis: diagnosis!.diagnosisView(),
        // Only a sender on this host shares our monotonic clock.
        latencyMs: new Map(
          senders
            .filter((s) => s.latencyMs !== null && localAddresses.has(s.source))
            .map((s) => [formatSenderId(s.senderId), s.latencyMs!]),
        ),
        expectations: hasExpectations(args.expectations)
          ? evaluateExpectations(args.expectations, channels.map((c) => c.stats))
          : null,
        final,
      };
    };

    const tick = () => {
      const now = monotonicNs();
      receiver!.tick(now);
      const ms = performance.now();
      let packets = 0;
      let bytes = 0;
      let foreignPackets = 0;
      receiver!.groups.forEach((channel, i) => {
        const t = channel.stats.totals();
        rates[i].sample(ms, t.packets, t.bytes);
        packets += t.packets;
        bytes += t.bytes;
        foreignPackets += t.foreign;
      });
      total.sample(ms, packets, bytes);
      foreign.sample(ms, foreignPackets, 0);
      diagnosis!.observe(receiver!.groups);
      // Durations beyond what one timer can hold (about 24.8 days) end here.
      if (args.duration > 0 && ms - startMs >= args.duration * 1000) stop.abort();
    };
    tick();
    // No timers of their own: the receive loop's turns drive the tick (each turn when packets
    // flow, after each wait of at most RUN_WAIT_MS when none do), and the tick the membership
    // refresh.
    let lastTickMs = performance.now();
    let lastRefreshMs = lastTickMs;
    const onTurn = () => {
      const ms = performance.now();
      if (ms - lastTickMs < TICK_MS * 0.9) return;
      lastTickMs = ms;
      tick();
      if (ms - lastRefreshMs >= MEMBERSHIP_REFRESH_MS) {
        lastRefreshMs = ms;
        membership.refresh();
      }
    };
    if (args.duration > 0 && args.duration * 1000 <= MAX_TIMER_MS) {
      timers.push(setTimeout(() => stop.abort(), args.duration * 1000));
    }

    let frame: ReceiveViewState | null = null;
    if (dashboard) {
      view = new LiveView(() => renderDashboard(frame ?? state(false), { colors }));
      view.start();
    } else if (!args.json && !args.quiet) {
      console.log(renderStartLine(state(false)));
      lines = new StatusLines(() => renderStatusLine(state(false)), STATUS_LINE_MS);
      lines.start();
    }

    await receiver.run({ signal: stop.signal, onTurn, waitMs: RUN_WAIT_MS });

    for (const timer of timers) clearInterval(timer);
    timers.length = 0;
    lines?.stop();
    tick();
    membership.refresh();
    await diagnosis.stop(); // what a diagnosis under way found is kept
    const final = state(true);
    const results = final.expectations ?? [];
    if (view !== null) {
      // The last frame left on screen is the final summary.
      frame = final;
      view.stop();
      view = null;
    } else if (args.json) {
      const summary = receiveSummary(
        {
          version: VERSION,
          sources: first.sources,
          exclude: first.exclude,
          port: first.port,
          interface: final.interface,
          protocol,
          membershipVersion: membership.version,
          elapsedS: final.elapsedS,
          querier: diagnosis.querierJson(),
          diagnosis: diagnosis.diagnosisJson(),
          expectations: final.expectations,
        },
        receiver.groups.map((c) => ({ group: c.group, summary: c.stats.summary() })),
      );
      console.log(JSON.stringify(summary, null, 2));
    } else {
      console.log(renderDashboard(final, { colors: NO_COLORS }));
    }
    const lost = receiver.lostInterface;
    if (lost !== null) {
      console.error(`${NAME}: ${lost}: the run ended`);
      return EXIT.runtime;
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
    await diagnosis?.stop();
    // Leave (with the sockets) before the version is put back, so the leaves use the forced one.
    receiver?.close();
    forced?.restore();
  }
}

// A join the kernel could not place (no route, no such device) gets the fix a lab user needs.
function noRouteHint(
  error: unknown,
  chosen: NetworkInterface | null,
  args: ReceiveArgs,
): unknown {
  if (!(error instanceof SocketError) || chosen !== null) return error;
  if (error.errnoName !== "ENODEV" && error.errnoName !== "ENETUNREACH") return error;
  const v6 = args.groups.family === "IPv6";
  return new McastError(
    `${error.message}: no route for the group ${args.groups.groups[0]}: add one ` +
      `(${
        v6 ? "ip -6 route add ff00::/8 dev IF table local" : "ip route add 224.0.0.0/4 dev IF"
      }) ` +
      "or use --interface",
    { cause: error },
  );
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
