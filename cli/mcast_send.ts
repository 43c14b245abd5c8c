/**
 * `mcast-send`: sends MCAS version 1 datagrams to a multicast group at a steady rate, for lab
 * work with `mcast-receive` (CONTRACT "mcast-send").
 *
 * ```sh
 * deno task mcast-send 239.0.10.101                       # 600 s, TTL 100, 25 pps, DSCP BE
 * deno task mcast-send 239.0.10.101 30 8 --rate 1Mbps --dscp ef --interface eth1
 * deno task mcast-send ff3e::8000:1 --source fd00::10 --count 1000 --json
 * ```
 *
 * Parses the command line into {@linkcode SendOptions}, opens one {@linkcode Publication}, and
 * lets the library's pacer (`lib/pacer.ts`) drive an `McasSender` (`lib/mcas_sender.ts`):
 * batches of pre-built datagrams in which only the sequence number and timestamp are rewritten.
 * A dashboard on a terminal (`_send_view.ts`); plain status lines otherwise; one JSON summary
 * with `--json`.
 *
 * @module
 */

import { createProgram, EXIT, integerIn, numberIn, parser, runTool, VERSION } from "./_cli.ts";
import { LiveView, StatusLines } from "./_dashboard.ts";
import { abortOnSignals } from "./_runtime.ts";
import {
  dashboard,
  Progress,
  type SendSummaryLine,
  statusLine,
  summaryLine,
  targetText,
} from "./_send_view.ts";
import { type AddressFamily, canonicalAddress, parseAddress } from "../lib/address.ts";
import { dscpName, formatDscp, parseDscp } from "../lib/dscp.ts";
import { InvalidValueError, McastError, MismatchError, SocketError } from "../lib/errors.ts";
import { checkUsableGroup, groupWarnings } from "../lib/group_advice.ts";
import { type GroupList, parseGroupList } from "../lib/group_list.ts";
import {
  currentLinkState,
  findInterfaceByAddress,
  interfaceIndex,
  interfaceName,
  linkState,
  listInterfaces,
  type NetworkInterface,
  resolveInterface,
} from "../lib/interfaces.ts";
import {
  DEFAULT_PORT,
  formatSenderId,
  MCAS_MAX_DATAGRAM_SIZE,
  McasEncoder,
  randomSenderId,
} from "../lib/mcas.ts";
import { McasSender } from "../lib/mcas_sender.ts";
import { pace, type PaceResult, pacingPlan } from "../lib/pacer.ts";
import { Publication } from "../lib/publication.ts";
import { PublicationConfig } from "../lib/publication_config.ts";
import { packetsPerSecond, parseRate, type Rate } from "../lib/rate.ts";
import { readRouteInterface } from "../lib/proc_route.ts";
import { interfaceMtu, interfaceStatistic } from "../lib/sysctl.ts";
import { round } from "../lib/_numbers.ts";

const NAME = "mcast-send";

/** IPv4 + UDP header bytes, and IPv6 + UDP. */
const HEADER_OVERHEAD: Readonly<Record<AddressFamily, number>> = { IPv4: 28, IPv6: 48 };
/** Room for the datagrams of one batch. */
const BATCH_BYTES = 8 * 1024 * 1024;

/** The parsed command line of mcast-send. */
export interface SendOptions {
  /** The first multicast group, canonical. */
  group: string;
  /** Every group (G, G+N or G1,G2,…), canonical; the datagrams go round-robin over them. */
  groups: readonly string[];
  /** Seconds to send; 0 = until the count or a signal. */
  durationS: number;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl: number;
  /** The rate. */
  rate: Rate;
  /** Stop after exactly this many packets. */
  count?: number;
  /** UDP payload bytes, MCAS header included. */
  size: number;
  /** DSCP value, 0 to 63. */
  dscp: number;
  /** Destination UDP port. */
  port: number;
  /** Egress interface: name, index or local address. */
  interface?: string;
  /** Exact local source address to bind. */
  source?: string;
  /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP. */
  loopback: boolean;
  /** No dashboard, no status lines. */
  quiet: boolean;
  /** One JSON summary on stdout at exit, nothing else there. */
  json: boolean;
}

/** The `--json` summary (CONTRACT "mcast-send"). */
export interface SendSummary extends SendSummaryLine {
  /** Always `"mcast-send"`. */
  tool: string;
  /** The tool version. */
  version: string;
  /** The group (the first, with several), canonical. */
  group: string;
  /** Every group, canonical. */
  groups: string[];
  /** Destination port. */
  port: number;
  /** The source address the datagrams carry. */
  source: string;
  /** The egress interface name, null when unknown. */
  interface: string | null;
  /** 16 hex digits. */
  sender_id: string;
  /** TTL / hop limit. */
  ttl: number;
  /** DSCP name, or the number when it has none. */
  dscp: string | number;
  /** UDP payload bytes per datagram. */
  size: number;
  /** The egress interface's kernel drop counter (`tx_dropped`) over the run; null when unknown. */
  interface_tx_dropped: number | null;
}

const EXAMPLES = [
  "mcast-send 239.0.10.101                          # 600 s, TTL 100, 25 pps, DSCP BE",
  "mcast-send 239.0.10.101 60 64 --rate 50pps --dscp ef",
  "mcast-send 239.0.10.101 0 --rate 1Mbps --size 1316 --interface eth1   # until Ctrl-C",
  "mcast-send 232.1.1.1 --source 10.0.0.1 --count 1000 --json",
  "mcast-send ff3e::8000:1 30 16 --source fd00::10 --dscp af41",
  "mcast-send 239.1.2.3 10 --rate max --interface lo --quiet",
  "mcast-send 239.1.1.1+63 --rate 640pps --count 640   # 64 groups, 10 datagrams each",
  "mcast-send 239.0.10.101 --rate 50pps --ttl 64 --dscp ef",
];

const NOTES = `Notes:
  Datagrams are MCAS v1: a 32-byte header (magic, version, TTL and DSCP set, sequence from 0,
  monotonic ns timestamp, random sender id), then 0xA5 padding up to --size.
  Rates: Npps, Nkpps, Nbps, Nkbps, NMbps, NGbps (bits of UDP payload), or max (unpaced).
  Pacing: up to 100 kpps each datagram leaves at its own time (no bursts); above 100 kpps they
  go in bursts of ceil(rate / 100 kpps), one about every 10 us (2 at 200 kpps, 4 at 400). After a late
  wake-up (a busy machine) the datagrams due are sent at once, at most 64 per call and 0.1 s of
  them in all; the total stays exact.
  Groups: G, G+N (G and the next N: 239.1.1.1+63 is 64 groups) or G1,G2,...; the datagrams go
  round-robin over them from one socket, and --rate and --count are totals.
  --count ends the run right after the last datagram. A down egress interface is exit 1.
  Exit codes: 0 done, 1 runtime failure, 2 bad argument.
`;

function parseArgs(argv: string[]): SendOptions | null {
  let parsed: SendOptions | null = null;
  const program = createProgram(
    NAME,
    "Send MCAS test datagrams to a multicast group at a steady rate",
    EXAMPLES,
  )
    .argument("<group>", "group: G, G+N or G1,G2,... (IPv4 or IPv6)", parser(parseGroupList))
    .argument(
      "[duration]",
      "seconds to send, 0 = forever (default 600)",
      numberIn("duration", 0, 1e9),
    )
    .argument("[ttl]", "IPv4 TTL / IPv6 hop limit, 1..255 (default 100)", integerIn("ttl", 1, 255))
    .option("--ttl <N>", "the same as the positional ttl", integerIn("ttl", 1, 255))
    .option(
      "--rate <R>",
      "Npps, Nkpps, Nbps, Nkbps, NMbps, NGbps or max (default 25pps)",
      parser(parseRate),
    )
    .option(
      "--count <N>",
      "stop after exactly N packets",
      integerIn("count", 1, Number.MAX_SAFE_INTEGER),
    )
    .option(
      "--size <B>",
      `UDP payload bytes, header included, 32..${MCAS_MAX_DATAGRAM_SIZE} (default 200)`,
      integerIn("size", 32, MCAS_MAX_DATAGRAM_SIZE),
    )
    .option(
      "--dscp <D>",
      "0..63 or be, cs0..cs7, af11..af43, ef, va, le (default be)",
      parser(parseDscp),
    )
    .option(
      "--port <P>",
      `destination UDP port (default ${DEFAULT_PORT})`,
      integerIn("port", 1, 65535),
    )
    .option("--interface <I>", "egress interface by name, index or local address")
    .option("--source <A>", "exact local source address to bind (for SSM receivers)")
    .option("--no-loopback", "disable IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP")
    .option("--quiet", "no dashboard and no status lines")
    .option("--json", "print one JSON summary object on stdout at exit")
    .allowExcessArguments(true)
    .addHelpText("after", NOTES)
    .action(
      (groups: GroupList, duration: number | undefined, positionalTtl: number | undefined) => {
        if (program.args.length > 3) {
          throw new InvalidValueError(
            "argument",
            program.args[3],
            "at most <group> [duration] [ttl] before the options",
          );
        }
        const o = program.opts<{
          ttl?: number;
          rate?: Rate;
          count?: number;
          size?: number;
          dscp?: number;
          port?: number;
          interface?: string;
          source?: string;
          loopback: boolean;
          quiet?: boolean;
          json?: boolean;
        }>();
        if (positionalTtl !== undefined && o.ttl !== undefined && positionalTtl !== o.ttl) {
          throw new InvalidValueError(
            "--ttl",
            o.ttl,
            `the same TTL as the positional one (${positionalTtl}), or only one of them`,
          );
        }
        parsed = {
          group: groups.groups[0],
          groups: groups.groups,
          durationS: duration ?? 600,
          ttl: o.ttl ?? positionalTtl ?? 100,
          rate: o.rate ?? { kind: "pps", pps: 25 },
          count: o.count,
          size: o.size ?? 200,
          dscp: o.dscp ?? 0,
          port: o.port ?? DEFAULT_PORT,
          interface: o.interface,
          source: o.source,
          loopback: o.loopback,
          quiet: o.quiet ?? false,
          json: o.json ?? false,
        };
      },
    );
  program.parse(argv, { from: "user" });
  return parsed;
}

function buildConfig(
  options: SendOptions,
): { config: PublicationConfig; iface?: NetworkInterface } {
  const group = parseAddress(options.group, { what: "group" });
  for (const g of options.groups) checkUsableGroup(g);
  let config = new PublicationConfig(options.group, options.port)
    .withTtl(options.ttl)
    .withDscp(options.dscp)
    .withLoopback(options.loopback);
  if (options.source !== undefined) config = config.withSourceAddr(options.source);
  config.validate(); // group, source family: before any interface lookup
  if (options.interface === undefined) return { config };
  const spec = options.interface;
  let given: ReturnType<typeof parseAddress> | undefined;
  try {
    given = parseAddress(spec);
  } catch {
    given = undefined; // a name or an index
  }
  if (given !== undefined && given.family !== group.family) {
    throw new MismatchError(
      `address family of --interface ${JSON.stringify(spec)}`,
      group.family,
      given.family,
    );
  }
  const iface = resolveInterface(spec);
  if (given !== undefined) {
    // An address: IPv4 IP_MULTICAST_IF by address; IPv6 binds that exact address when no
    // --source is given (mctx-core's rule) and sends out of its interface.
    config = config.withOutgoingInterface(canonicalAddress(spec));
  } else if (group.family === "IPv6") {
    config = config.withIpv6InterfaceIndex(iface.index);
  } else {
    const v4 = iface.addresses.find((a) => a.family === "IPv4");
    config = v4 !== undefined
      ? config.withOutgoingInterface(v4.address)
      : config.withIpv4InterfaceIndex(iface.index);
  }
  if (options.source !== undefined) checkSourceOn(options.source, iface, group.family);
  config.validate();
  return { config, iface };
}

// The source must be one this interface can send from: an IPv6 source lives on one interface
// (mctx-core's mismatch error), and a loopback address (127.0.0.0/8, ::1) only on lo.
function checkSourceOn(source: string, iface: NetworkInterface, family: AddressFamily): void {
  const text = canonicalAddress(source.split("%")[0]);
  const owner = findInterfaceByAddress(text);
  const loopback = family === "IPv4" ? text.startsWith("127.") : text === "::1";
  if (loopback && !linkState(iface).loopback) {
    throw new InvalidValueError(
      "--source",
      source,
      `an address ${iface.name} can send from (a loopback address only leaves through lo)`,
    );
  }
  if (family === "IPv6" && owner !== null && owner.index !== iface.index) {
    throw new MismatchError(`interface of --source ${text}`, iface.name, owner.name);
  }
}

/** The publication; a group the kernel has no route for gets the fix a lab user needs. */
function openPublication(
  config: PublicationConfig,
  interfaceGiven: boolean,
  family: AddressFamily,
): Publication {
  try {
    return new Publication(config);
  } catch (error) {
    if (
      interfaceGiven || !(error instanceof SocketError) ||
      (error.errnoName !== "ENETUNREACH" && error.errnoName !== "ENODEV")
    ) {
      throw error;
    }
    const route = family === "IPv6"
      ? "ip -6 route add ff00::/8 dev IF table local"
      : "ip route add 224.0.0.0/4 dev IF";
    throw new McastError(
      `${error.message}: no route for the group ${config.group}: add one (${route}) or use ` +
        "--interface",
      { cause: error },
    );
  }
}

/** The interface the datagrams leave through, as far as it can be known. */
function egressName(pub: Publication, iface: NetworkInterface | undefined): string | null {
  if (iface !== undefined) return iface.name;
  if (pub.interfaceIndex > 0) return interfaceName(pub.interfaceIndex);
  // What the kernel picks: the route for the group, else the source's interface.
  const routed = readRouteInterface(parseAddress(pub.destination.address));
  if (routed !== null && routed !== "*") return routed;
  return findInterfaceByAddress(pub.sourceAddr)?.name ?? null;
}

/** Exit 1 when the egress interface is down: the kernel would drop (or refuse) every datagram. */
function checkEgressUp(name: string | null): void {
  if (name === null) return;
  const iface = listInterfaces().find((i) => i.name === name);
  if (iface === undefined) return;
  const link = linkState(iface);
  if (!link.up) {
    throw new McastError(
      `The egress interface ${name} is down: bring it up (ip link set ${name} up)`,
    );
  }
  if (!link.running) {
    throw new McastError(
      `The egress interface ${name} is down (no carrier: for a veth, its peer is down): the ` +
        "kernel would drop every datagram",
    );
  }
}

function mtuWarning(
  options: SendOptions,
  family: AddressFamily,
  iface: string | null,
): string | null {
  if (iface === null) return null;
  const mtu = interfaceMtu(iface);
  if (mtu === null) return null; // no sysfs here: no warning rather than a guess
  const room = mtu - HEADER_OVERHEAD[family];
  if (options.size <= room) return null;
  return `${NAME}: warning: --size ${options.size} is above the path MTU of ${iface} (${mtu} bytes: at most ${room} bytes of UDP payload over ${family}); datagrams will be fragmented`;
}

function summaryOf(
  options: SendOptions,
  pub: Publication,
  iface: string | null,
  senderId: bigint,
  ratePps: number | null,
  durationS: number,
  txDropped: number | null,
): SendSummary {
  const counters = pub.counters;
  return {
    tool: NAME,
    version: VERSION,
    group: pub.destination.address,
    groups: [...options.groups],
    port: options.port,
    source: pub.sourceAddr,
    interface: iface,
    sender_id: formatSenderId(senderId),
    ttl: options.ttl,
    dscp: dscpName(options.dscp),
    size: options.size,
    rate_pps: ratePps,
    duration_s: round(durationS, 3),
    packets_sent: counters.packetsSent,
    bytes_sent: counters.bytesSent,
    send_errors: counters.sendErrors,
    achieved_pps: durationS > 0 ? round(counters.packetsSent / durationS, 2) : 0,
    interface_tx_dropped: txDropped,
  };
}

/**
 * Runs mcast-send with `args` (without the program name).
 *
 * @example
 * ```ts ignore
 * import { main } from "./mcast_send.ts";
 * const code = await main(["239.1.2.3", "1", "--interface", "lo", "--count", "5", "--quiet"]);
 * ```
 *
 * @param args The command-line arguments.
 * @returns The exit code (0 when the run completed or was interrupted).
 * @throws {InvalidValueError} For a bad argument (exit 2 through `runTool`).
 * @throws {McastError} For a runtime failure (exit 1 through `runTool`).
 */
export async function main(args: string[]): Promise<number> {
  const options = parseArgs(args);
  if (options === null) return EXIT.ok; // --help or --version
  const family = parseAddress(options.group, { what: "group" }).family;
  const ratePps = packetsPerSecond(options.rate, options.size);
  const built = buildConfig(options);
  for (const warning of groupWarnings(options.group, { use: "send" })) {
    console.error(`${NAME}: warning: ${warning}`);
  }
  const senderId = randomSenderId();
  const encoder = new McasEncoder(options.size, { ttl: options.ttl, dscp: options.dscp, senderId });

  if (built.iface !== undefined) checkEgressUp(built.iface.name);
  using pub = openPublication(built.config, built.iface !== undefined, family);
  const iface = egressName(pub, built.iface);
  checkEgressUp(iface);
  const droppedBefore = iface === null ? null : interfaceStatistic(iface, "tx_dropped");
  const warning = mtuWarning(options, family, iface);
  if (warning !== null) console.error(warning);

  const plan = pacingPlan(ratePps, {
    maxBatch: Math.max(1, Math.min(1024, Math.floor(BATCH_BYTES / options.size))),
  });
  const sender = new McasSender(pub, encoder, plan.batch, { groups: options.groups });
  const several = options.groups.length > 1 ? ` (+${options.groups.length - 1} more groups)` : "";
  const destination =
    (pub.destination.family === "IPv6"
      ? `[${pub.destination.address}]:${options.port}`
      : `${pub.destination.address}:${options.port}`) + several;
  const details = `from ${pub.sourceAddr}${
    iface === null ? "" : ` via ${iface}`
  }  TTL ${options.ttl}  DSCP ${
    formatDscp(options.dscp)
  } (${options.dscp})  ${options.size} B  sender ${formatSenderId(senderId)}`;

  const progress = new Progress(pub);
  const live = !options.quiet && !options.json && Deno.stdout.isTerminal();
  const plain = !options.quiet && !options.json && !live;
  const view = live
    ? new LiveView(dashboard({ destination, details }, options, ratePps, progress))
    : null;
  const status = plain ? new StatusLines(() => statusLine(destination, progress, ratePps)) : null;
  if (plain) {
    console.log(
      `${NAME}: sending to ${destination} ${details}, rate ${targetText(options, ratePps)}`,
    );
  }

  using stop = abortOnSignals();
  let result: PaceResult | null = null;
  let failure: unknown = null;
  const watch = iface === null ? null : new LinkWatch(iface, stop);
  view?.start();
  status?.start();
  progress.start();
  try {
    result = await pace({
      plan,
      send: sender.send,
      count: options.count,
      durationNs: BigInt(Math.round(options.durationS * 1e9)),
      signal: stop.signal,
      finishInterval: false,
    });
    const gone = watch?.gone ?? null;
    progress.finish(
      gone !== null ? "FAILED" : result.stoppedBy === "signal" ? "INTERRUPTED" : "DONE",
    );
    if (gone !== null) failure = new McastError(gone);
  } catch (error) {
    failure = error;
    progress.finish("FAILED");
  } finally {
    watch?.stop();
    view?.stop();
    status?.stop();
  }
  const droppedAfter = iface === null ? null : interfaceStatistic(iface, "tx_dropped");
  const txDropped = droppedBefore === null || droppedAfter === null
    ? null
    : Math.max(0, droppedAfter - droppedBefore);
  const durationS = result === null
    ? progress.elapsedS()
    : Number(result.endNs - result.startNs) / 1e9;
  const summary = summaryOf(options, pub, iface, senderId, ratePps, durationS, txDropped);
  if (options.json) console.log(JSON.stringify(summary, null, 2));
  else if (!options.quiet) console.log(summaryLine(summary, progress.state));
  if (failure !== null) throw failure;
  return EXIT.ok;
}

/**
 * Watches the egress interface during the run, once a second: a link going down is said once on
 * stderr (the kernel drops what is sent meanwhile: `interface_tx_dropped` counts it); an
 * interface that disappears ends the run.
 */
class LinkWatch {
  gone: string | null = null;
  readonly #timer: ReturnType<typeof setInterval>;
  #down = false;

  constructor(name: string, stop: { abort(): void }) {
    // It runs between two paced datagrams: cheap (no address text), and asked once before the
    // run so that its first, cold call does not make a datagram late.
    const index = interfaceIndex(name);
    currentLinkState(name, index);
    this.#timer = setInterval(() => {
      const link = currentLinkState(name, index);
      if (link === null) {
        this.gone = `The egress interface ${name} is gone`;
        stop.abort();
        return;
      }
      const down = !link.up || !link.running;
      if (down && !this.#down) {
        console.error(
          `${NAME}: warning: ${name} went down${link.up ? " (no carrier)" : ""}: the kernel ` +
            "drops what is sent until it is up again",
        );
      }
      this.#down = down;
    }, 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

if (import.meta.main) await runTool(NAME, main);
