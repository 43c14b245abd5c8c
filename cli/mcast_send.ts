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
 * lets the pacer (`_pacer.ts`) drive batches of pre-built datagrams in which only the sequence
 * number and timestamp are rewritten. A dashboard on a terminal; plain status lines otherwise;
 * one JSON summary with `--json`.
 *
 * @module
 */

import { createProgram, EXIT, integerIn, numberIn, parser, runTool, VERSION } from "./_cli.ts";
import {
  colors,
  formatBitrate,
  formatDuration,
  LiveView,
  progressBar,
  sparkline,
  StatusLines,
} from "./_dashboard.ts";
import { monotonicClock, pace, type PaceResult, pacingPlan } from "./_pacer.ts";
import { type AddressFamily, canonicalAddress, parseAddress } from "../lib/address.ts";
import { dscpName, formatDscp, parseDscp } from "../lib/dscp.ts";
import { InvalidValueError, MismatchError, SocketError } from "../lib/errors.ts";
import {
  formatSenderId,
  MCAS_MAX_DATAGRAM_SIZE,
  McasEncoder,
  randomSenderId,
} from "../lib/mcas.ts";
import { Publication } from "../lib/publication.ts";
import { PublicationConfig } from "../lib/publication_config.ts";
import { formatRate, packetsPerSecond, parseRate, type Rate } from "../lib/rate.ts";
import { CAPABILITIES, PLATFORM } from "../ffi/constants.ts";
import { ipMreqn } from "../ffi/group_req.ts";
import {
  findInterfaceByAddress,
  interfaceName,
  type NetworkInterface,
  resolveInterface,
} from "../ffi/interfaces.ts";
import type { MessageBatch } from "../ffi/msghdr.ts";
import { readKernelFile } from "../ffi/procfs.ts";
import { closeFd, openUdpSocket, setStructOption, waitForFd } from "../ffi/socket.ts";

const NAME = "mcast-send";

/** Default destination port: 0x4D43, "MC". */
const DEFAULT_PORT = 19779;
/** IPv4 + UDP header bytes, and IPv6 + UDP. */
const HEADER_OVERHEAD: Readonly<Record<AddressFamily, number>> = { IPv4: 28, IPv6: 48 };
/** Room for the datagrams of one batch. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** A send error that lasts this long without one success ends the run (exit 1). */
const ERROR_GIVE_UP_NS = 5_000_000_000n;
/** Errors that retrying cannot fix. */
const FATAL_ERRNOS = new Set(["EMSGSIZE", "EACCES", "EPERM", "EINVAL", "EBADF", "ENODEV", "ENXIO"]);

/** The parsed command line of mcast-send. */
export interface SendOptions {
  /** The multicast group, as typed. */
  group: string;
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
export interface SendSummary {
  /** Always `"mcast-send"`. */
  tool: string;
  /** The tool version. */
  version: string;
  /** The group, canonical. */
  group: string;
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

const EXAMPLES = [
  "mcast-send 239.0.10.101                          # 600 s, TTL 100, 25 pps, DSCP BE",
  "mcast-send 239.0.10.101 60 64 --rate 50pps --dscp ef",
  "mcast-send 239.0.10.101 0 --rate 1Mbps --size 1316 --interface eth1   # until Ctrl-C",
  "mcast-send 232.1.1.1 --source 10.0.0.1 --count 1000 --json",
  "mcast-send ff3e::8000:1 30 16 --source fd00::10 --dscp af41",
  "mcast-send 239.1.2.3 10 --rate max --interface lo --quiet",
];

const NOTES = `Notes:
  Datagrams are MCAS v1: a 32-byte header (magic, version, TTL and DSCP set, sequence from 0,
  monotonic ns timestamp, random sender id), then 0xA5 padding up to --size.
  Rates: Npps, Nkpps, Nbps, Nkbps, NMbps, NGbps (bits of UDP payload), or max (unpaced).
  Exit codes: 0 done, 1 runtime failure, 2 bad argument.
`;

function parseArgs(argv: string[]): SendOptions | null {
  let parsed: SendOptions | null = null;
  const program = createProgram(
    NAME,
    "Send MCAS test datagrams to a multicast group at a steady rate",
    EXAMPLES,
  )
    .argument("<group>", "IPv4 or IPv6 multicast group")
    .argument(
      "[duration]",
      "seconds to send, 0 = forever (default 600)",
      numberIn("duration", 0, 1e9),
    )
    .argument("[ttl]", "IPv4 TTL / IPv6 hop limit, 1..255 (default 100)", integerIn("ttl", 1, 255))
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
    .action((group: string, duration: number | undefined, ttl: number | undefined) => {
      if (program.args.length > 3) {
        throw new InvalidValueError(
          "argument",
          program.args[3],
          "at most <group> [duration] [ttl] before the options",
        );
      }
      const o = program.opts<{
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
      parsed = {
        group,
        durationS: duration ?? 600,
        ttl: ttl ?? 100,
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
    });
  program.parse(argv, { from: "user" });
  return parsed;
}

/** The egress interface as chosen on the command line. */
interface Egress {
  /** The interface, when one was named. */
  iface?: NetworkInterface;
  /** IPv4 by index: set IP_MULTICAST_IF on the socket before the publication configures it. */
  ipv4Index?: number;
}

function buildConfig(options: SendOptions): { config: PublicationConfig; egress: Egress } {
  const group = parseAddress(options.group, { what: "group" });
  let config = new PublicationConfig(options.group, options.port)
    .withTtl(options.ttl)
    .withDscp(options.dscp)
    .withLoopback(options.loopback);
  if (options.source !== undefined) config = config.withSourceAddr(options.source);
  config.validate(); // group, source family: before any interface lookup
  const egress: Egress = {};
  if (options.interface !== undefined) {
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
    egress.iface = iface;
    if (group.family === "IPv6") {
      config = config.withIpv6InterfaceIndex(iface.index);
    } else if (given !== undefined) {
      config = config.withOutgoingInterface(canonicalAddress(spec));
    } else {
      const v4 = iface.addresses.find((a) => a.family === "IPv4");
      if (v4 !== undefined) config = config.withOutgoingInterface(v4.address);
      else egress.ipv4Index = iface.index;
    }
    config.validate();
  }
  return { config, egress };
}

function openPublication(config: PublicationConfig, egress: Egress): Publication {
  let fd: number | undefined;
  try {
    if (egress.ipv4Index !== undefined) {
      fd = openUdpSocket("IPv4");
      setStructOption(
        fd,
        PLATFORM.IPPROTO_IP,
        PLATFORM.IP_MULTICAST_IF,
        ipMreqn("0.0.0.0", "0.0.0.0", egress.ipv4Index),
        {
          label: "IP_MULTICAST_IF",
          value: egress.iface?.name ?? egress.ipv4Index,
        },
      );
    }
    return new Publication(config, fd === undefined ? {} : { fd });
  } catch (error) {
    if (fd !== undefined) closeFd(fd);
    throw error;
  }
}

/** The interface the datagrams leave through, as far as it can be known. */
function egressName(pub: Publication, egress: Egress): string | null {
  if (egress.iface !== undefined) return egress.iface.name;
  if (pub.interfaceIndex > 0) return interfaceName(pub.interfaceIndex);
  return findInterfaceByAddress(pub.sourceAddr)?.name ?? null;
}

function mtuWarning(
  options: SendOptions,
  family: AddressFamily,
  iface: string | null,
): string | null {
  if (iface === null) return null;
  let mtu: number;
  try {
    mtu = Number(readKernelFile(`/sys/class/net/${iface}/mtu`).trim());
  } catch {
    return null; // no sysfs here: no warning rather than a guess
  }
  const room = mtu - HEADER_OVERHEAD[family];
  if (!Number.isInteger(mtu) || mtu <= 0 || options.size <= room) return null;
  return `${NAME}: warning: --size ${options.size} is above the path MTU of ${iface} (${mtu} bytes: at most ${room} bytes of UDP payload over ${family}); datagrams will be fragmented`;
}

/**
 * Sends MCAS datagrams from a prepared batch: every slot holds the full datagram, and a send
 * rewrites only the sequence number and timestamp of the slots it uses (no allocation per
 * packet; one clock read per batch). Would-block waits for writability; refused sends are
 * counted by the publication and retried after a short pause, and end the run when they persist.
 */
class McasBatchSender {
  readonly #pub: Publication;
  readonly #batch: MessageBatch;
  readonly #views: DataView[];
  readonly #slots: number;
  #sequence = 0;
  #errorSinceNs: bigint | null = null;

  constructor(pub: Publication, encoder: McasEncoder, slots: number) {
    this.#pub = pub;
    this.#slots = slots;
    const datagram = encoder.encode(0n, 0n);
    this.#batch = pub.prepareBatch(slots, datagram.length);
    this.#views = [];
    for (let i = 0; i < slots; i++) {
      const payload = this.#batch.payloads[i];
      payload.set(datagram);
      this.#batch.setLength(i, datagram.length);
      this.#views.push(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
    }
  }

  /** Sends up to `max` datagrams; resolves to how many went. */
  send = (max: number): number | Promise<number> => {
    const n = max < this.#slots ? max : this.#slots;
    this.#stamp(n);
    const counters = this.#pub.counters;
    const wouldBlocks = counters.wouldBlocks;
    let sent: number;
    try {
      sent = CAPABILITIES.batchedMessages
        ? this.#pub.sendPrepared(this.#batch, n)
        : this.#sendEach(n);
    } catch (error) {
      if (!(error instanceof SocketError)) throw error;
      return this.#refused(error);
    }
    this.#sequence += sent;
    if (sent > 0) this.#errorSinceNs = null;
    if (sent < n && counters.wouldBlocks !== wouldBlocks) {
      return waitForFd(this.#pub.fd, PLATFORM.POLLOUT, 100).then(() => sent);
    }
    return sent; // a partial send without would-block: the error comes back on the next call
  };

  /** Lets the event loop run (a zero-timeout poll of the socket). */
  yield = (): Promise<number> => waitForFd(this.#pub.fd, PLATFORM.POLLOUT, 0);

  #stamp(n: number): void {
    const first = this.#views[0];
    first.setBigUint64(16, monotonicClock.now());
    const timeHigh = first.getUint32(16);
    const timeLow = first.getUint32(20);
    let sequence = this.#sequence;
    for (let i = 0; i < n; i++, sequence++) {
      const view = this.#views[i];
      view.setUint32(8, Math.floor(sequence / 4294967296));
      view.setUint32(12, sequence >>> 0);
      view.setUint32(16, timeHigh);
      view.setUint32(20, timeLow);
    }
  }

  #sendEach(n: number): number {
    let sent = 0;
    while (sent < n && this.#pub.trySend(this.#batch.payloads[sent]) !== null) sent++;
    return sent;
  }

  #refused(error: SocketError): Promise<number> {
    const now = monotonicClock.now();
    this.#errorSinceNs ??= now;
    if (FATAL_ERRNOS.has(error.errnoName) || now - this.#errorSinceNs >= ERROR_GIVE_UP_NS) {
      throw error;
    }
    return new Promise((resolve) => setTimeout(() => resolve(0), 10));
  }
}

/** How the run stands, for the views. */
type RunState = "SENDING" | "DONE" | "INTERRUPTED" | "FAILED";

/** Running figures shared by the views: the publication's counters and the run's clock. */
class Progress {
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

function summaryOf(
  options: SendOptions,
  pub: Publication,
  iface: string | null,
  senderId: bigint,
  ratePps: number | null,
  durationS: number,
): SendSummary {
  const counters = pub.counters;
  return {
    tool: NAME,
    version: VERSION,
    group: pub.destination.address,
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
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function formatPps(pps: number): string {
  return pps >= 100 ? `${Math.round(pps).toLocaleString("en-US")} pps` : `${pps.toFixed(1)} pps`;
}

function targetText(options: SendOptions, ratePps: number | null): string {
  if (ratePps === null) return "max (unpaced)";
  const given = options.rate.kind === "bps" ? ` (${formatRate(options.rate)})` : "";
  return `${formatPps(ratePps)}${given}`;
}

function statusLine(group: string, progress: Progress, ratePps: number | null): string {
  const elapsed = progress.elapsedS();
  const packets = progress.packets();
  const pps = elapsed > 0 ? packets / elapsed : 0;
  const target = ratePps === null ? "max" : formatPps(ratePps);
  return `${NAME}: ${group} sent ${packets} packets, ${progress.bytes()} bytes in ${
    elapsed.toFixed(1)
  }s: ${formatPps(pps)} (target ${target}), ${progress.errors()} errors`;
}

function summaryLine(summary: SendSummary, state: RunState): string {
  const target = summary.rate_pps === null ? "max" : formatPps(summary.rate_pps);
  return `${NAME}: ${state.toLowerCase()}: ${summary.packets_sent} packets, ${summary.bytes_sent} bytes in ${
    summary.duration_s.toFixed(3)
  }s: ${formatPps(summary.achieved_pps)} (target ${target}), ${summary.send_errors} errors`;
}

/** Renders the dashboard frame; keeps a short history for the recent rate and its sparkline. */
function dashboard(
  header: { destination: string; details: string },
  options: SendOptions,
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
  const { config, egress } = buildConfig(options);
  const senderId = randomSenderId();
  const encoder = new McasEncoder(options.size, { ttl: options.ttl, dscp: options.dscp, senderId });

  using pub = openPublication(config, egress);
  const iface = egressName(pub, egress);
  const warning = mtuWarning(options, family, iface);
  if (warning !== null) console.error(warning);

  const plan = pacingPlan(ratePps, {
    maxBatch: Math.max(1, Math.min(1024, Math.floor(BATCH_BYTES / options.size))),
  });
  const sender = new McasBatchSender(pub, encoder, plan.batch);
  const destination = pub.destination.family === "IPv6"
    ? `[${pub.destination.address}]:${options.port}`
    : `${pub.destination.address}:${options.port}`;
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

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  let result: PaceResult | null = null;
  let failure: unknown = null;
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
      onYield: sender.yield,
    });
    progress.finish(result.stoppedBy === "signal" ? "INTERRUPTED" : "DONE");
  } catch (error) {
    failure = error;
    progress.finish("FAILED");
  } finally {
    view?.stop();
    status?.stop();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
  const durationS = result === null
    ? progress.elapsedS()
    : Number(result.endNs - result.startNs) / 1e9;
  const summary = summaryOf(options, pub, iface, senderId, ratePps, durationS);
  if (options.json) console.log(JSON.stringify(summary, null, 2));
  else if (!options.quiet) console.log(summaryLine(summary, progress.state));
  if (failure !== null) throw failure;
  return EXIT.ok;
}

if (import.meta.main) await runTool(NAME, main);
