/**
 * `mctx-send`: the library's demo sender (mctx-core's `mctx_send`). Sends `<payload>` to
 * `<group>:<port>` `count` times, `interval_ms` apart, through one `Context` publication, and
 * prints one line per send. With `MCTX_METRICS_SUMMARY_FILE` it writes Heimdall single-header
 * JSONL sender metrics (a row every `MCTX_METRICS_SUMMARY_SECS` seconds and a final one at exit);
 * with only `MCTX_METRICS_SUMMARY_SECS` it prints the summaries instead.
 *
 * ```sh
 * deno task mctx-send 239.1.2.3 5000 hello 10 100 --interface 127.0.0.1 --ttl 1
 * ```
 *
 * @module
 */

import { createProgram, EXIT, integerIn, runTool } from "./_cli.ts";
import { parseAddress } from "../lib/address.ts";
import { Context } from "../lib/context.ts";
import { InvalidValueError, WouldBlockError } from "../lib/errors.ts";
import {
  heimdallHeader,
  HeimdallJsonlWriter,
  inferNodeId,
  type JsonObject,
  type JsonValue,
  networkSampleRow,
} from "../lib/heimdall_jsonl.ts";
import {
  type ContextMetricsDelta,
  ContextMetricsSnapshot,
  MetricsSampler,
} from "../lib/metrics.ts";
import { formatEndpoint } from "../lib/publication.ts";
import { PublicationConfig } from "../lib/publication_config.ts";
import { resolveInterface } from "../lib/interfaces.ts";
import { abortOnSignals, sleepUntil } from "./_runtime.ts";

const NAME = "mctx-send";
const PRODUCER = "mcast/mctx-send";

/** The parsed command line. */
interface SendArgs {
  group: string;
  port: number;
  payload: string;
  count: number;
  intervalMs: number;
  source?: string;
  sourcePort?: number;
  bind?: { address: string; port: number };
  interface?: string;
  interfaceIndex?: number;
  ttl?: number;
  loopback: boolean;
  quiet: boolean;
}

/** Metrics settings from the environment. */
interface MetricsEnv {
  file?: string;
  summarySecs: number;
  nodeId?: string;
  flags: JsonObject;
}

const EXAMPLES = [
  "mctx-send 239.1.2.3 5000 hello",
  "mctx-send 239.1.2.3 5000 hello 100 10 --source 192.168.1.10",
  "mctx-send 239.1.2.3 5000 hello 5 200 --interface 127.0.0.1 --ttl 1",
  "mctx-send ff3e::8000:1234 5000 hello-v6 --source fd00::10       # IPv6 SSM-style",
  "mctx-send ff32::8000:1234 5000 hello-ll --interface-index 2      # link-local scope",
  "mctx-send ff3e::8000:1234 5000 hello-v6 --source fd00::10",
  "mctx-send ff32::8000:1234 5000 hello-v6 --source fe80::1234 --interface-index 7",
  "MCTX_METRICS_SUMMARY_FILE=results/sender-0001/network.jsonl MCTX_METRICS_SUMMARY_SECS=1 \\",
  "  mctx-send 239.1.2.3 5000 hello 1000 10 --interface 127.0.0.1",
];

const METRICS_HELP = `Metrics (environment):
  MCTX_METRICS_SUMMARY_FILE=<path>  write Heimdall single-header JSONL sender metrics to <path>
  MCTX_METRICS_SUMMARY_SECS=<n>     a summary every n seconds (0 or unset: only the final one)
  MCTX_METRICS_NODE_ID=<id>         header node_id (default: parent directory, then file stem)
  MCTX_METRICS_FLAGS_JSON=<json>    extra header flags (a JSON object; built-in flags win)

Notes:
  --source pins the exact source address; --interface picks the egress interface by local
  address (or name); --interface-index picks an IPv6 egress interface without binding a source.
  ff31::/16 is interface-local (same host), ff32::/16 link-local (send from a fe80:: source),
  ff35/ff38/ff3e are wider scopes (use a ULA or global source; the destination scope id is 0).
`;

function parseArgs(argv: string[]): SendArgs | null {
  let parsed: SendArgs | null = null;
  const program = createProgram(
    NAME,
    "Send a payload to a multicast group (mctx-core demo sender)",
    EXAMPLES,
  )
    .argument("<group>", "IPv4 or IPv6 multicast group")
    .argument("<port>", "destination UDP port", integerIn("port", 1, 65535))
    .argument("<payload>", "payload text (UTF-8)")
    .argument(
      "[count]",
      "datagrams to send (default 1)",
      integerIn("count", 0, Number.MAX_SAFE_INTEGER),
    )
    .argument(
      "[interval_ms]",
      "milliseconds between sends (default 0)",
      integerIn("interval_ms", 0, 86_400_000),
    )
    .option("--source <ip>", "exact local source address to bind")
    .option("--source-port <port>", "local UDP source port", integerIn("--source-port", 1, 65535))
    .option(
      "--bind <ip:port>",
      "bind this local address and port (not with --source/--source-port)",
    )
    .option("--interface <ip>", "egress interface by local address (or name)")
    .option(
      "--interface-index <n>",
      "IPv6 egress interface index",
      integerIn("--interface-index", 1, 0xffffffff),
    )
    .option("--ttl <n>", "TTL / hop limit (default 1)", integerIn("--ttl", 1, 255))
    .option("--no-loopback", "do not loop multicast back to this host")
    .option("--quiet", "no line per send")
    .addHelpText("after", METRICS_HELP)
    .action((group: string, port: number, payload: string, count?: number, intervalMs?: number) => {
      const o = program.opts<{
        source?: string;
        sourcePort?: number;
        bind?: string;
        interface?: string;
        interfaceIndex?: number;
        ttl?: number;
        loopback: boolean;
        quiet?: boolean;
      }>();
      parsed = {
        group,
        port,
        payload,
        count: count ?? 1,
        intervalMs: intervalMs ?? 0,
        source: o.source,
        sourcePort: o.sourcePort,
        bind: o.bind === undefined ? undefined : parseBind(o.bind),
        interface: o.interface,
        interfaceIndex: o.interfaceIndex,
        ttl: o.ttl,
        loopback: o.loopback,
        quiet: o.quiet ?? false,
      };
    });
  program.parse(argv, { from: "user" });
  return parsed;
}

function parseBind(text: string): { address: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new InvalidValueError("--bind", text, "IPv4:PORT or [IPv6]:PORT, port 1 to 65535");
  }
  parseAddress(match[1], { what: "--bind" });
  return { address: match[1], port };
}

function buildConfig(args: SendArgs): PublicationConfig {
  const family = parseAddress(args.group, { what: "group" }).family;
  if (args.bind !== undefined && (args.source !== undefined || args.sourcePort !== undefined)) {
    throw new InvalidValueError(
      "--bind",
      `${args.bind.address}:${args.bind.port}`,
      "no --source or --source-port with --bind",
    );
  }
  if (args.interface !== undefined && args.interfaceIndex !== undefined) {
    throw new InvalidValueError(
      "--interface-index",
      args.interfaceIndex,
      "either --interface or --interface-index, not both",
    );
  }
  if (family === "IPv4" && args.interfaceIndex !== undefined) {
    throw new InvalidValueError(
      "--interface-index",
      args.interfaceIndex,
      "an IPv6 group (use --interface for IPv4)",
    );
  }
  let config = new PublicationConfig(args.group, args.port);
  if (args.bind !== undefined) config = config.withBindAddr(args.bind.address, args.bind.port);
  if (args.source !== undefined) config = config.withSourceAddr(args.source);
  if (args.sourcePort !== undefined) config = config.withSourcePort(args.sourcePort);
  if (args.interface !== undefined) config = withInterface(config, args.interface, family);
  if (args.interfaceIndex !== undefined) {
    config = config.withIpv6InterfaceIndex(args.interfaceIndex);
  }
  if (args.ttl !== undefined) config = config.withTtl(args.ttl);
  if (!args.loopback) config = config.withLoopback(false);
  config.validate();
  return config;
}

// An address is used as is (mctx-core); a name or index is resolved on this host.
function withInterface(
  config: PublicationConfig,
  spec: string,
  family: "IPv4" | "IPv6",
): PublicationConfig {
  try {
    parseAddress(spec);
    return config.withOutgoingInterface(spec);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
  }
  const found = resolveInterface(spec);
  if (family === "IPv6") return config.withIpv6InterfaceIndex(found.index);
  const v4 = found.addresses.find((a) => a.family === "IPv4");
  if (v4 === undefined) {
    throw new InvalidValueError("--interface", spec, "an interface with an IPv4 address");
  }
  return config.withOutgoingInterface(v4.address);
}

function readMetricsEnv(): MetricsEnv {
  const secsText = Deno.env.get("MCTX_METRICS_SUMMARY_SECS")?.trim() ?? "";
  let summarySecs = 0;
  if (secsText !== "") {
    summarySecs = /^\d+(\.\d+)?$/.test(secsText) ? Number(secsText) : NaN;
    if (!Number.isFinite(summarySecs)) {
      throw new InvalidValueError(
        "MCTX_METRICS_SUMMARY_SECS",
        secsText,
        "a number of seconds, 0 or more",
      );
    }
  }
  const file = Deno.env.get("MCTX_METRICS_SUMMARY_FILE")?.trim() || undefined;
  const nodeId = Deno.env.get("MCTX_METRICS_NODE_ID")?.trim() || undefined;
  const flagsText = Deno.env.get("MCTX_METRICS_FLAGS_JSON")?.trim() ?? "";
  let flags: JsonObject = {};
  if (flagsText !== "") {
    let value: unknown;
    try {
      value = JSON.parse(flagsText);
    } catch {
      throw new InvalidValueError("MCTX_METRICS_FLAGS_JSON", flagsText, "valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InvalidValueError("MCTX_METRICS_FLAGS_JSON", flagsText, "a JSON object");
    }
    flags = value as JsonObject;
  }
  return { file, summarySecs, nodeId, flags };
}

function headerFlags(args: SendArgs, config: PublicationConfig, extra: JsonObject): JsonObject {
  const flags: JsonObject = {
    transport: "udp-multicast",
    role: "sender",
    multicast_group: config.group,
    multicast_port: config.port,
    multicast_source: config.sourceAddr ?? "default",
    multicast_interface: args.interface ??
      (args.interfaceIndex !== undefined ? String(args.interfaceIndex) : "default"),
    publish_interval_ms: args.intervalMs,
    chunk_payload_bytes: new TextEncoder().encode(args.payload).length,
    pacing: args.intervalMs > 0 ? "fixed-interval" : "none",
    batch_send_enabled: false,
    loopback_enabled: config.loopback,
    ttl_or_hops: config.ttl,
  };
  if (config.sourcePort !== undefined) flags.multicast_source_port = config.sourcePort;
  if (args.interfaceIndex !== undefined) flags.multicast_interface_index = args.interfaceIndex;
  for (const [key, value] of Object.entries(extra)) {
    if (!Object.hasOwn(flags, key)) flags[key] = value as JsonValue; // built-in flags win
  }
  return flags;
}

function printSummary(snapshot: ContextMetricsSnapshot, delta: ContextMetricsDelta): void {
  const row = networkSampleRow(snapshot, delta);
  const lines = ["[metrics]"];
  for (const [key, value] of Object.entries(row)) {
    if (key === "ts") continue;
    const text = Number.isInteger(value) ? String(value) : (value as number).toFixed(3);
    lines.push(`  ${`${key}:`.padEnd(28)}${text}`);
  }
  console.log(lines.join("\n"));
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === null) return EXIT.ok; // --help or --version
  const config = buildConfig(args);
  const metricsEnv = readMetricsEnv();
  const payload = new TextEncoder().encode(args.payload);

  using context = new Context();
  const id = context.addPublication(config);
  const publication = context.getPublication(id)!;

  const metricsOn = metricsEnv.file !== undefined || metricsEnv.summarySecs > 0;
  const sampler = MetricsSampler.forContext(context);
  sampler.sample();
  let writer: HeimdallJsonlWriter | null = null;
  if (metricsEnv.file !== undefined) {
    const start = sampler.previous!;
    writer = HeimdallJsonlWriter.open(
      metricsEnv.file,
      heimdallHeader({
        nodeId: metricsEnv.nodeId ?? inferNodeId(metricsEnv.file),
        producer: PRODUCER,
        flags: headerFlags(args, config, metricsEnv.flags),
        createdAtMs: start.capturedAt.wallClockMs,
      }),
    );
  }
  const emit = () => {
    const snapshot = ContextMetricsSnapshot.capture(context);
    const delta = sampler.sampleSnapshot(snapshot);
    if (delta === null) return;
    if (writer !== null) writer.writeRow(networkSampleRow(snapshot, delta));
    else printSummary(snapshot, delta);
  };

  using stop = abortOnSignals();
  try {
    const summaryMs = metricsEnv.summarySecs * 1000;
    let nextSummary = performance.now() + summaryMs;
    const start = performance.now();
    for (let i = 0; i < args.count && !stop.signal.aborted; i++) {
      let report;
      while (true) {
        try {
          report = context.send(id, payload);
          break;
        } catch (error) {
          if (!(error instanceof WouldBlockError)) throw error;
          await publication.waitWritable(100);
          if (stop.signal.aborted) break;
        }
      }
      if (report === undefined) break;
      if (!args.quiet) {
        console.log(
          `sent ${report.bytesSent} bytes to ${
            formatEndpoint(report.destination)
          } from ${report.sourceAddr}`,
        );
      }
      if (summaryMs > 0 && performance.now() >= nextSummary) {
        emit();
        nextSummary = performance.now() + summaryMs;
      }
      if (args.intervalMs > 0 && i + 1 < args.count) {
        await sleepUntil(start + (i + 1) * args.intervalMs, stop.signal);
      }
    }
    if (metricsOn) emit();
  } finally {
    writer?.close();
  }
  return EXIT.ok;
}

if (import.meta.main) await runTool(NAME, main);
