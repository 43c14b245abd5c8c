/**
 * Benchmark part 3, pacing accuracy: `mcast-send --rate` and `iperf -b` at 1k, 10k and 50k pps,
 * achieved / target, with a C receiver counting what arrived.
 *
 * @module
 */

import { parseIperfClient } from "./_baselines.ts";
import {
  type Bench,
  BUDGET_S,
  exists,
  IFACE,
  message,
  parseJsonDocument,
  parseJsonLine,
  READY,
  RECEIVER_CPU,
  ROOT,
  SENDER_CPU,
} from "./_context.ts";

const PACING_RATES = [1_000, 10_000, 50_000] as const;

/** One pacing figure. */
export interface PacingRow {
  /** `ours (mcast-send)` or `iperf2`. */
  tool: string;
  /** Target datagrams per second. */
  targetPps: number;
  /** The exact rate option given. */
  option: string;
  /** Seconds the tool reports it sent for. */
  seconds: number;
  /** Datagrams the tool reports it sent. */
  sent: number;
  /** sent / seconds. */
  achievedPps: number;
  /** achievedPps / targetPps. */
  ratio: number;
  /** Datagrams a C receiver counted. */
  received: number;
  /** received / (targetPps × seconds). */
  receivedRatio: number;
  /** Why it was not measured, when it was not. */
  error?: string;
}

async function paceOnce(
  bench: Bench,
  tool: "mcast-send" | "iperf2",
  targetPps: number,
): Promise<PacingRow> {
  const { group, port } = bench.nextGroup();
  const seconds = bench.settings.pacingSeconds;
  const size = 200;
  const receiverArgv = [
    bench.c.receiver,
    ...["--group", group, "--port", String(port), "--iface", IFACE],
    ...["--idle-ms", "1000", "--duration", String(seconds + 6)],
  ];
  const option = tool === "mcast-send" ? `--rate ${targetPps}pps` : `-b ${targetPps * size * 8}`;
  const argv = tool === "mcast-send"
    ? bench.mcastSendArgv(group, port, seconds, ["--rate", `${targetPps}pps`, "--size", "200"])
    : bench.iperfArgv(group, port, String(targetPps * size * 8), size, seconds);
  bench.note(`pacing: ${tool}`, bench.ns.execArgv(argv, SENDER_CPU));
  bench.note("pacing: counting receiver", bench.ns.execArgv(receiverArgv, RECEIVER_CPU));
  const receiver = bench.ns.spawn(receiverArgv, {
    cpu: RECEIVER_CPU,
    timeoutMs: (seconds + 15) * 1000,
  });
  try {
    await receiver.waitForOutput(READY, 15_000);
    const out = await bench.ns.run(argv, { cpu: SENDER_CPU, timeoutMs: (seconds + 20) * 1000 });
    let sent: number;
    let actualSeconds: number;
    if (tool === "mcast-send") {
      const summary = parseJsonDocument<{ packets_sent: number; duration_s: number }>(
        out,
        "mcast-send",
      );
      sent = summary.packets_sent;
      actualSeconds = summary.duration_s;
    } else {
      const report = parseIperfClient(out.stdout);
      if (report === null) throw new Error(`iperf2: no report: ${out.stderr.trim()}`);
      sent = report.datagrams;
      actualSeconds = report.seconds;
    }
    const counted = parseJsonLine<{ datagrams: number }>(await receiver.wait(), "C receiver");
    const achieved = actualSeconds > 0 ? sent / actualSeconds : 0;
    return {
      tool: tool === "mcast-send" ? "ours (mcast-send)" : "iperf2",
      targetPps,
      option,
      seconds: actualSeconds,
      sent,
      achievedPps: achieved,
      ratio: achieved / targetPps,
      received: counted.datagrams,
      receivedRatio: counted.datagrams / (targetPps * seconds),
    };
  } finally {
    receiver.kill("SIGKILL");
  }
}

/**
 * Measure the pacing of both tools at every rate, while the time budget lasts.
 *
 * @param bench The run.
 * @returns One row per tool and rate.
 */
export async function measurePacing(bench: Bench): Promise<PacingRow[]> {
  const rows: PacingRow[] = [];
  const tools: ("mcast-send" | "iperf2")[] = ["iperf2"];
  if (await exists(`${ROOT}/cli/mcast_send.ts`)) tools.unshift("mcast-send");
  else bench.notMeasured.push("pacing of mcast-send: cli/mcast_send.ts does not exist");
  for (const rate of PACING_RATES) {
    for (const tool of tools) {
      if (bench.elapsedS > BUDGET_S - bench.settings.pacingSeconds - 15) {
        bench.notMeasured.push(`pacing ${tool} ${rate} pps: time budget used up`);
        continue;
      }
      try {
        rows.push(await paceOnce(bench, tool, rate));
      } catch (error) {
        bench.notMeasured.push(`pacing ${tool} ${rate} pps: ${message(error)}`);
      }
    }
  }
  return rows;
}
