/**
 * Benchmark part 3, pacing: how evenly `mcast-send --rate` and `iperf -b …pps` space their
 * datagrams at 1k, 10k and 50k pps, seen on the wire. The sender runs in one namespace (pinned to
 * CPU 0), its datagrams cross a veth pair (TTL 1, the route to 224.0.0.0/4 and the egress
 * interface on the veth), and tcpdump captures them at the receiver's end of the pair (another
 * namespace, CPU 1) with nanosecond time stamps. From each capture: the rate achieved (datagrams
 * − 1 over first to last), the inter-arrival gaps (mean, standard deviation, p50, p99, max) and
 * the largest burst (consecutive datagrams less than a tenth of the interval apart). The two tools
 * alternate run by run; each figure is the median of the runs, and the ratios to iperf2 are those
 * of the medians of the same run.
 *
 * @module
 */

import { type Bench, DENO, message, RECEIVER_CPU, ROOT, SENDER_CPU } from "./_context.ts";
import type { LabProcess, Namespace } from "../tests/lab/mod.ts";
import { median } from "./_report.ts";

const PACING_RATES = [1_000, 10_000, 50_000] as const;
const SIZE = 200;
type Tool = "mcast-send" | "iperf2";

/** What one capture shows. */
export interface PacingRun {
  /** Datagrams captured at the receiver. */
  captured: number;
  /** (captured − 1) / (last − first arrival), datagrams per second. */
  achievedPps: number;
  /** (achieved − target) / target, percent. */
  rateErrorPercent: number;
  /** Inter-arrival gaps, microseconds. */
  gapMeanUs: number;
  gapStddevUs: number;
  gapP50Us: number;
  gapP99Us: number;
  gapMaxUs: number;
  /** The most consecutive datagrams less than 10 % of the interval apart (1: no burst). */
  largestBurst: number;
}

/** One pacing figure: a tool at a rate, medians over the runs. */
export interface PacingRow extends PacingRun {
  /** `ours (mcast-send)` or `iperf2`. */
  tool: string;
  /** Target datagrams per second. */
  targetPps: number;
  /** The exact rate option given. */
  option: string;
  /** Seconds each run sends for. */
  seconds: number;
  /** Each run's figures, in run order. */
  runs: PacingRun[];
  /** gapStddevUs ÷ iperf2's at the same rate (null for iperf2 or when it was not measured). */
  stddevRatioIperf: number | null;
  /** gapP99Us ÷ iperf2's at the same rate. */
  p99RatioIperf: number | null;
  /** Why it was not measured, when it was not. */
  error?: string;
}

/** The sender's and the receiver's namespace and the veth between them. */
interface Wire {
  tx: Namespace;
  rx: Namespace;
  txIface: string;
  rxIface: string;
  txAddress: string;
}

/**
 * The arrival times (ns) in a libpcap file with nanosecond (or microsecond) time stamps.
 *
 * @param bytes The file.
 * @returns Arrival times, nanoseconds since the epoch, in capture order.
 */
export function pcapTimesNs(bytes: Uint8Array): bigint[] {
  if (bytes.length < 24) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  const little = magic === 0xa1b23c4d || magic === 0xa1b2c3d4;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  if (!little && magic !== 0x4d3cb2a1 && magic !== 0xd4c3b2a1) {
    throw new Error(`not a libpcap file (magic 0x${magic.toString(16)})`);
  }
  const times: bigint[] = [];
  for (let at = 24; at + 16 <= bytes.length;) {
    const sec = BigInt(view.getUint32(at, little));
    const frac = BigInt(view.getUint32(at + 4, little));
    const capLen = view.getUint32(at + 8, little);
    at += 16 + capLen;
    if (at > bytes.length) break;
    times.push(sec * 1_000_000_000n + (nanos ? frac : frac * 1000n));
  }
  return times;
}

/**
 * The figures of one capture.
 *
 * @param times Arrival times, ns.
 * @param targetPps The rate asked for.
 * @returns The figures.
 */
export function pacingFigures(times: readonly bigint[], targetPps: number): PacingRun {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(Number(times[i] - times[i - 1]) / 1000);
  const span = times.length > 1 ? Number(times[times.length - 1] - times[0]) / 1e9 : 0;
  const achieved = span > 0 ? (times.length - 1) / span : 0;
  const mean = gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length);
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / Math.max(1, gaps.length);
  const burstBelowUs = 0.1 * 1e6 / targetPps;
  let largest = times.length > 0 ? 1 : 0;
  let run = 1;
  for (const gap of gaps) {
    run = gap < burstBelowUs ? run + 1 : 1;
    if (run > largest) largest = run;
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    captured: times.length,
    achievedPps: achieved,
    rateErrorPercent: (achieved - targetPps) / targetPps * 100,
    gapMeanUs: mean,
    gapStddevUs: Math.sqrt(variance),
    gapP50Us: at(0.5),
    gapP99Us: at(0.99),
    gapMaxUs: sorted.at(-1) ?? 0,
    largestBurst: largest,
  };
}

function medianRun(runs: PacingRun[]): PacingRun {
  const keys = Object.keys(runs[0]) as (keyof PacingRun)[];
  const out = {} as PacingRun;
  for (const key of keys) out[key] = median(runs.map((r) => r[key]));
  return out;
}

async function makeWire(bench: Bench): Promise<Wire> {
  const lab = bench.ns.lab;
  const tx = await lab.addNamespace("ptx");
  const rx = await lab.addNamespace("prx");
  const link = await lab.link(tx, rx, { ipv6: false });
  return {
    tx,
    rx,
    txIface: link.a.name,
    rxIface: link.b.name,
    txAddress: link.a.ipv4 ?? "",
  };
}

function senderArgv(wire: Wire, tool: Tool, group: string, port: number, pps: number, s: number) {
  if (tool === "mcast-send") {
    return [
      DENO,
      ...["run", "--allow-ffi", "--allow-env", "--allow-read", "--quiet"],
      `${ROOT}/cli/mcast_send.ts`,
      ...[group, String(s), "1", "--rate", `${pps}pps`, "--size", String(SIZE)],
      ...["--port", String(port), "--interface", wire.txIface, "--json"],
    ];
  }
  return [
    "iperf",
    ...["-c", group, "-p", String(port), "-u", "-b", `${pps}pps`, "-l", String(SIZE)],
    ...["-t", String(s), "-T", "1", "-B", wire.txAddress],
  ];
}

function captureArgv(wire: Wire, path: string, group: string, port: number): string[] {
  return [
    "tcpdump",
    ...["-i", wire.rxIface, "-n", "-p", "-s", "64", "-B", "32768"],
    ...["--time-stamp-precision=nano", "-w", path],
    `udp and dst host ${group} and dst port ${port}`,
  ];
}

async function startCapture(wire: Wire, argv: string[]): Promise<LabProcess> {
  const capture = wire.rx.spawn(argv, { cpu: RECEIVER_CPU, timeoutMs: 60_000 });
  await capture.waitForOutput(/listening on/, 10_000);
  return capture;
}

async function paceOnce(
  bench: Bench,
  wire: Wire,
  tool: Tool,
  targetPps: number,
): Promise<PacingRun> {
  const { group, port } = bench.nextGroup();
  const seconds = bench.settings.pacingSeconds;
  const path = `${await wire.rx.lab.scratchDir()}/pacing-${port}.pcap`;
  const argv = senderArgv(wire, tool, group, port, targetPps, seconds);
  const named = (a: string) =>
    a === wire.tx.name ? "$TX" : a === wire.rx.name ? "$RX" : a === path ? "$TMP/pacing.pcap" : a;
  bench.note(`pacing: ${tool}`, wire.tx.execArgv(argv, SENDER_CPU).map(named));
  const dump = captureArgv(wire, path, group, port);
  bench.note("pacing: capture", wire.rx.execArgv(dump, RECEIVER_CPU).map(named));
  const capture = await startCapture(wire, dump);
  try {
    const out = await wire.tx.run(argv, { cpu: SENDER_CPU, timeoutMs: (seconds + 20) * 1000 });
    if (out.code !== 0) throw new Error(`${tool}: exit ${out.code}: ${out.stderr.trim()}`);
    // tcpdump hands over its ring in blocks (up to 1 s old): wait for the last one.
    await new Promise((r) => setTimeout(r, 1200));
  } finally {
    capture.kill("SIGINT");
    await capture.wait();
  }
  const times = pcapTimesNs(await Deno.readFile(path));
  await Deno.remove(path).catch(() => {});
  if (times.length < 2) throw new Error(`${tool}: ${times.length} datagrams captured`);
  return pacingFigures(times, targetPps);
}

/**
 * Measure the pacing of both tools at every rate, `reps` runs each (the tools alternating), while
 * the time budget lasts.
 *
 * @param bench The run.
 * @returns One row per tool and rate.
 */
export async function measurePacing(bench: Bench): Promise<PacingRow[]> {
  const wire = await makeWire(bench);
  const tools: Tool[] = ["mcast-send", "iperf2"];
  const runs = new Map<string, PacingRun[]>();
  const seconds = bench.settings.pacingSeconds;
  const budget = bench.elapsedS + bench.settings.pacingBudgetS;
  for (let rep = 0; rep < bench.settings.reps; rep++) {
    for (const rate of PACING_RATES) {
      // Alternate which tool goes first, so that neither always runs on a warmer machine.
      const order = (rep + PACING_RATES.indexOf(rate)) % 2 === 0 ? tools : [...tools].reverse();
      for (const tool of order) {
        if (bench.elapsedS > budget - seconds - 5) {
          bench.notMeasured.push(`pacing ${tool} ${rate} pps run ${rep + 1}: time budget used up`);
          continue;
        }
        try {
          const key = `${tool} ${rate}`;
          runs.set(key, [...(runs.get(key) ?? []), await paceOnce(bench, wire, tool, rate)]);
        } catch (error) {
          bench.notMeasured.push(`pacing ${tool} ${rate} pps run ${rep + 1}: ${message(error)}`);
        }
      }
    }
  }
  const rows: PacingRow[] = [];
  for (const rate of PACING_RATES) {
    const iperf = runs.get(`iperf2 ${rate}`);
    const reference = iperf === undefined ? null : medianRun(iperf);
    for (const tool of tools) {
      const measured = runs.get(`${tool} ${rate}`);
      if (measured === undefined) continue;
      const figures = medianRun(measured);
      const ours = tool === "mcast-send";
      rows.push({
        tool: ours ? "ours (mcast-send)" : "iperf2",
        targetPps: rate,
        option: ours ? `--rate ${rate}pps` : `-b ${rate}pps`,
        seconds,
        ...figures,
        runs: measured,
        stddevRatioIperf: ours && reference ? figures.gapStddevUs / reference.gapStddevUs : null,
        p99RatioIperf: ours && reference ? figures.gapP99Us / reference.gapP99Us : null,
      });
    }
  }
  return rows;
}
