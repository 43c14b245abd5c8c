/**
 * Benchmark part 2, receiver throughput: the C sender at full speed for a fixed count into the
 * library's `Subscription` + `decodeMcas` + `ReceiverStats.record` or into the C `recvmmsg`
 * receiver (live, with loss), and the same receivers draining a queued backlog (drain rate).
 *
 * @module
 */

import {
  type Bench,
  IFACE,
  message,
  parseJsonDocument,
  parseJsonLine,
  READY,
  RECEIVER_CPU,
  SENDER_CPU,
} from "./_context.ts";
import { median } from "./_report.ts";
import type { ReceiveResult } from "./_worker.ts";

type ReceiverTool = "c" | "lib" | "lib-warm" | "lib-raw";
const RECEIVER_NAMES: Record<ReceiverTool, string> = {
  c: "C recvmmsg",
  lib: "ours (Subscription + decodeMcas + ReceiverStats)",
  "lib-warm": "ours, JIT warmed up (same, after 128k self-sent datagrams)",
  "lib-raw": "ours (Subscription.receiveBatch only)",
};

/** One receiver figure. */
export interface ReceiverRow {
  /**
   * `live` (C sender at full speed while receiving), `drain` (a queued backlog), or
   * `live mcast-send <rate>` (`mcast-send --rate max` or `--rate 100000pps` as the feed).
   */
  scenario: string;
  /** `C recvmmsg` or `ours (Subscription + decodeMcas + ReceiverStats)`. */
  tool: string;
  /** UDP payload bytes. */
  size: number;
  /** Datagrams the C sender sent. */
  sent: number;
  /** The C sender's rate (live: the offered load). */
  feedPps: number;
  /** MCAS datagrams the receiver counted. */
  received: number;
  /** (sent − unique received) / sent × 100. */
  lossPercent: number;
  /** received / seconds from first to last receive (the median over runs). */
  pps: number;
  /** pps of every run. */
  runs?: number[];
  /**
   * Compared with the C receiver in the same scenario and size: drain, pps / C pps; live,
   * delivered fraction / C's delivered fraction (the feed does not saturate either receiver).
   */
  ratioC: number | null;
  /** Why it was not measured, when it was not. */
  error?: string;
}

async function receiveOnce(
  bench: Bench,
  scenario: string,
  tool: ReceiverTool,
  size: number,
  count: number,
): Promise<ReceiverRow> {
  const { group, port } = bench.nextGroup();
  const drain = scenario === "drain";
  // `live mcast-send max` / `live mcast-send 100000pps`: our sender as the feed.
  const sendRate = scenario.startsWith("live mcast-send ") ? scenario.split(" ")[2] : null;
  const rcvbuf = drain ? 512 * 1024 * 1024 : 4 * 1024 * 1024;
  const duration = 20;
  const receiverArgv = tool === "c"
    ? [
      bench.c.receiver,
      ...["--group", group, "--port", String(port), "--iface", IFACE, "--batch", "64"],
      ...["--expect", String(count), "--idle-ms", "500", "--duration", String(duration)],
      ...["--rcvbuf", String(rcvbuf), "--wait-go", drain ? "1" : "0"],
    ]
    : bench.workerArgv({
      mode: "receive",
      group,
      port,
      iface: IFACE,
      size,
      batch: 64,
      count,
      durationS: duration,
      idleMs: 500,
      warmupS: tool === "lib-warm" ? 2 : 0,
      receiveBufferBytes: rcvbuf,
      waitGo: drain,
      processing: tool === "lib-raw" ? "recv-only" : "full",
    });
  const senderArgv = sendRate === null
    ? bench.cSenderArgv(group, port, size, 64, count, 15)
    : bench.mcastSendArgv(group, port, 15, [
      ...["--rate", sendRate, "--count", String(count), "--size", String(size)],
    ]);
  bench.note(
    `receiver (${scenario}): ${RECEIVER_NAMES[tool]}`,
    bench.ns.execArgv(receiverArgv, RECEIVER_CPU),
  );
  bench.note(`receiver (${scenario}): feed`, bench.ns.execArgv(senderArgv, SENDER_CPU));
  const receiver = bench.ns.spawn(receiverArgv, {
    cpu: RECEIVER_CPU,
    timeoutMs: (duration + 10) * 1000,
    stdin: drain ? "piped" : "null",
  });
  try {
    await receiver.waitForOutput(READY, 15_000);
    const feed = await bench.ns.run(senderArgv, { cpu: SENDER_CPU, timeoutMs: 20_000 });
    const sent = sendRate === null
      ? parseJsonLine<{ packets_sent: number; pps: number }>(feed, "C sender (feed)")
      : (({ packets_sent, achieved_pps }) => ({ packets_sent, pps: achieved_pps }))(
        parseJsonDocument<{ packets_sent: number; achieved_pps: number }>(feed, "mcast-send"),
      );
    if (drain) await receiver.write("go\n");
    const out = await receiver.wait();
    const got = tool === "c"
      ? parseJsonLine<{ received: number; unique: number; pps: number }>(out, "C receiver")
      : parseJsonLine<ReceiveResult>(out, "library receiver");
    return {
      scenario,
      tool: RECEIVER_NAMES[tool],
      size,
      sent: sent.packets_sent,
      feedPps: sent.pps,
      received: got.received,
      lossPercent: sent.packets_sent > 0
        ? (sent.packets_sent - got.unique) / sent.packets_sent * 100
        : 0,
      pps: got.pps,
      ratioC: null,
    };
  } finally {
    receiver.kill("SIGKILL");
  }
}

/**
 * Measure the receivers: live at 200 and 1400 bytes, and draining a 200 byte backlog.
 *
 * @param bench The run.
 * @returns One row per scenario, size and receiver (the run nearest the median).
 */
export async function measureReceivers(bench: Bench): Promise<ReceiverRow[]> {
  const rows: ReceiverRow[] = [];
  const reps = bench.settings.reps;
  const plan: {
    scenario: string;
    size: number;
    count: number;
    tools: ReceiverTool[];
  }[] = [
    { scenario: "live", size: 200, count: 300_000, tools: ["c", "lib"] },
    { scenario: "live", size: 1400, count: 200_000, tools: ["c", "lib"] },
    { scenario: "drain", size: 200, count: 400_000, tools: ["c", "lib", "lib-warm", "lib-raw"] },
    // mcast-send at its full speed (~400 kpps) and at 100 kpps into both, the same 4 MiB buffer.
    { scenario: "live mcast-send max", size: 200, count: 400_000, tools: ["c", "lib"] },
    { scenario: "live mcast-send 100000pps", size: 200, count: 200_000, tools: ["c", "lib"] },
  ];
  for (const { scenario, size, count, tools } of plan) {
    const measured = new Map<ReceiverTool, ReceiverRow[]>(tools.map((t) => [t, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const tool of tools) {
        try {
          measured.get(tool)?.push(await receiveOnce(bench, scenario, tool, size, count));
        } catch (error) {
          bench.notMeasured.push(`receiver ${scenario} ${tool} ${size} B: ${message(error)}`);
        }
      }
    }
    const picked = tools.map((tool) => {
      const list = measured.get(tool) ?? [];
      if (list.length === 0) return null;
      const m = median(list.map((r) => r.pps));
      const row = list.reduce((a, b) => Math.abs(a.pps - m) <= Math.abs(b.pps - m) ? a : b);
      return { ...row, pps: m, runs: list.map((r) => r.pps) };
    });
    const c = picked[0];
    for (const row of picked) {
      if (row === null) continue;
      // Live: the comparison is of what got through (delivered fraction); drain: of the rate.
      if (row !== c && c !== null) {
        row.ratioC = scenario === "drain"
          ? (c.pps > 0 ? row.pps / c.pps : null)
          : (100 - row.lossPercent) / Math.max(1e-9, 100 - c.lossPercent);
      }
      rows.push(row);
    }
  }
  return rows;
}
