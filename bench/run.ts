/**
 * The side-by-side benchmark suite (`deno task bench`): measures the library and the tools
 * against iperf2 and a small C baseline in the same run, on the loopback interface of a network
 * namespace it creates and deletes (pacing: over a veth pair between two more), and writes
 * `bench/results.json`. Needs root (`ip netns`), gcc, iperf2, tcpdump and `script` (util-linux);
 * finishes in about seven minutes (`--quick`: under four; one part alone with `--only`).
 *
 * 1. Sender throughput, unpaced, 200 and 1400 byte MCAS datagrams to a group on `lo` with no
 *    receiver: C `send()` / `sendmmsg()` loops, the library's `Publication` (`trySend` per
 *    datagram, `sendBatch`, `prepareBatch` + `sendPrepared`), `mcast-send --rate max` and
 *    `iperf -c … -u`.
 * 2. Receiver throughput: the C sender at full speed for a fixed count into the library's
 *    `Subscription` + `decodeMcas` + `ReceiverStats.record` or into the C `recvmmsg` receiver
 *    (live, with loss), and the same receivers draining a queued backlog (drain rate).
 * 3. Pacing: `mcast-send --rate` and `iperf -b …pps` at 1k, 10k and 50k pps over a veth pair
 *    between two more namespaces, captured at the receiving end (tcpdump, ns time stamps): rate
 *    achieved, inter-arrival gaps (mean, stddev, p50, p99, max), largest burst, ratios to iperf2.
 * 4. Micro-benchmarks: `deno bench --json bench/` (`*_bench.ts`).
 * 5. A quiet idle: CPU of `mcast-send` → `mcast-receive` at 25 pps for 20 s, dashboards under a
 *    pseudo-terminal and `--quiet`, beside the C pair (`sender --pps 25`), iperf2's pair and a
 *    bare Deno 25 Hz timer, all at the same time (`_idle.ts`).
 * 6. Startup: spawn to the first datagram (tcpdump) / to the join (`/proc/PID/net/igmp`) of
 *    each tool beside iperf2, the C sender and an empty `deno run` (`_startup.ts`).
 *
 * Each part has its file (`_sender.ts`, `_receiver.ts`, `_pacing.ts`, `_micro.ts`, `_idle.ts`,
 * `_startup.ts`), sharing
 * `_context.ts`; this file parses the options, runs the parts in order, prints the tables and
 * writes the results. The namespace is a lab of the test harness (`tests/lab/`) with its own
 * prefix, `mcb-`.
 *
 * ```sh
 * deno task bench                 # everything, 3 runs per throughput figure
 * deno task bench --quick         # 1 run each, 2 s pacing runs
 * deno task bench --reps 5 --seconds 2 --out /tmp/results.json
 * deno task bench --only idle,startup   # those parts alone; the others keep their figures
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { compileCBaseline, describeMachine, type Machine, removeCBaseline } from "./_baselines.ts";
import { Bench, message, type Part, PARTS, ROOT, type Settings } from "./_context.ts";
import { IDLE_SECONDS, type IdleRow, measureIdle } from "./_idle.ts";
import { measureStartup, type StartupRow } from "./_startup.ts";
import { measureMicro } from "./_micro.ts";
import { measurePacing, type PacingRow } from "./_pacing.ts";
import { measureReceivers, type ReceiverRow } from "./_receiver.ts";
import { measureSenders, type SenderRow } from "./_sender.ts";
import { formatMarkdownTable, formatNumber, formatRatio, type MicroResult } from "./_report.ts";
import { Lab } from "../tests/lab/mod.ts";

export type { IdleRow, PacingRow, ReceiverRow, SenderRow, StartupRow };

/** The prefix of the benchmark's namespace (`mcb-<pid>-<n>-bench`); the tests use `mcl-`. */
const NAMESPACE_PREFIX = "mcb-";

/** Everything `bench/results.json` holds. */
export interface BenchResults {
  /** The machine. */
  machine: Machine;
  /** Settings of the run. */
  settings: {
    reps: number;
    seconds: number;
    pacingSeconds: number;
    quick: boolean;
    only: Part[];
  };
  /** Exact commands, by measurement. */
  commands: Record<string, string>;
  /** Sender throughput. */
  sender: SenderRow[];
  /** Receiver throughput. */
  receiver: ReceiverRow[];
  /** Pacing accuracy. */
  pacing: PacingRow[];
  /** Micro-benchmarks. */
  micro: MicroResult[];
  /** CPU at 25 pps, with and without dashboards. */
  idle: IdleRow[];
  /** Spawn to first packet / to the join. */
  startup: StartupRow[];
  /** What was not measured and why. */
  notMeasured: string[];
  /** Wall-clock seconds the whole run took. */
  totalSeconds: number;
  /** /proc/loadavg at the end of the run. */
  loadavgAtEnd: string;
}

function settingsFrom(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      reps: { type: "string" },
      seconds: { type: "string" },
      "no-micro": { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string", default: `${ROOT}/bench/results.json` },
    },
  });
  const quick = values.quick === true;
  const reps = Number(values.reps ?? (quick ? 1 : 3));
  const seconds = Number(values.seconds ?? 1);
  if (!Number.isInteger(reps) || reps < 1 || reps > 10) throw new Error("--reps: 1 to 10");
  if (!(seconds >= 0.2 && seconds <= 5)) throw new Error("--seconds: 0.2 to 5");
  const only = values.only === undefined ? [] : values.only.split(",");
  for (const part of only) {
    if (!(PARTS as readonly string[]).includes(part)) {
      throw new Error(`--only: ${PARTS.join(", ")} (comma-separated)`);
    }
  }
  return {
    reps,
    seconds,
    pacingSeconds: quick ? 2 : 3,
    pacingBudgetS: quick ? 60 : 110,
    quick,
    micro: values["no-micro"] !== true,
    only: only as Part[],
    out: values.out ?? `${ROOT}/bench/results.json`,
  };
}

function senderTable(rows: SenderRow[]): string {
  return formatMarkdownTable(
    ["size", "tool", "method", "pps (median)", "runs", "÷ C (same call)", "÷ iperf2"],
    rows.map((r) => [
      `${r.size} B`,
      r.tool,
      r.method,
      r.pps === null ? `not measured` : formatNumber(r.pps),
      r.runs.map((x) => formatNumber(x)).join(" / "),
      r.cReference === null ? "—" : formatRatio(r.ratioC),
      r.id === "iperf2" ? "—" : formatRatio(r.ratioIperf),
    ]),
  );
}

function receiverTable(rows: ReceiverRow[]): string {
  return formatMarkdownTable(
    ["scenario", "size", "receiver", "sent", "feed pps", "received", "loss %", "rx pps", "÷ C *"],
    rows.map((r) => [
      r.scenario,
      `${r.size} B`,
      r.tool,
      formatNumber(r.sent),
      formatNumber(r.feedPps),
      formatNumber(r.received),
      r.lossPercent.toFixed(2),
      formatNumber(r.pps),
      r.tool === "C recvmmsg" ? "—" : formatRatio(r.ratioC),
    ]),
  ) + "\n* live: delivered fraction ÷ C's; drain: rx pps ÷ C's";
}

function pacingTable(rows: PacingRow[]): string {
  const us = (x: number) => x.toFixed(1);
  return formatMarkdownTable(
    [
      "target pps",
      "tool",
      "runs",
      "captured",
      "achieved pps",
      "rate error %",
      "gap mean µs",
      "stddev µs",
      "p50 µs",
      "p99 µs",
      "max µs",
      "largest burst",
      "stddev ÷ iperf2",
      "p99 ÷ iperf2",
    ],
    rows.map((r) => [
      formatNumber(r.targetPps),
      r.tool,
      String(r.runs.length),
      formatNumber(r.captured),
      formatNumber(r.achievedPps),
      r.rateErrorPercent.toFixed(3),
      us(r.gapMeanUs),
      us(r.gapStddevUs),
      us(r.gapP50Us),
      us(r.gapP99Us),
      us(r.gapMaxUs),
      String(r.largestBurst),
      r.stddevRatioIperf === null ? "—" : r.stddevRatioIperf.toFixed(2),
      r.p99RatioIperf === null ? "—" : r.p99RatioIperf.toFixed(2),
    ]),
  ) + "\nmedians of the runs; gaps between arrivals at the receiver's end of a veth pair";
}

function idleTable(rows: IdleRow[]): string {
  return formatMarkdownTable(
    ["tool", "mode", "CPU % total (median)", "CPU % steady (median)", "runs total / steady"],
    rows.map((r) => [
      r.tool,
      r.mode,
      r.error !== undefined && r.runs.length === 0 ? `not measured` : r.totalPct.toFixed(3),
      r.steadyPct.toFixed(3),
      r.runs.map((x) => `${x.totalPct.toFixed(2)}/${x.steadyPct.toFixed(2)}`).join(" "),
    ]),
  );
}

function startupTable(rows: StartupRow[]): string {
  return formatMarkdownTable(
    ["tool", "until", "ms (median)", "runs"],
    rows.map((r) => [
      r.tool,
      r.until,
      r.runs.length === 0 ? `not measured` : r.medianMs.toFixed(1),
      r.runs.map((x) => x.toFixed(1)).join(" / "),
    ]),
  );
}

function microTable(rows: MicroResult[]): string {
  return formatMarkdownTable(
    ["benchmark", "ns/op (avg)", "ns/op (p75)", "ns/op (p99)", "Mops/s"],
    rows.map((r) => [
      r.name,
      r.avgNs.toFixed(1),
      r.p75Ns.toFixed(1),
      r.p99Ns.toFixed(1),
      (1e3 / r.avgNs).toFixed(2),
    ]),
  );
}

async function main(args: string[]): Promise<number> {
  const settings = settingsFrom(args);
  const wanted = (part: Part) => settings.only.length === 0 || settings.only.includes(part);
  const machine = await describeMachine();
  console.log(
    `mcast bench: ${machine.cpu}, ${machine.nproc} CPUs, kernel ${machine.kernel}, ` +
      `deno ${machine.deno}, load ${machine.loadavg}`,
  );
  // With --only, the other parts keep the figures results.json already has.
  const previous: Partial<BenchResults> = settings.only.length === 0
    ? {}
    : await Deno.readTextFile(settings.out).then((t) => JSON.parse(t)).catch(() => ({}));
  const c = await compileCBaseline();
  // Deleted at the end, also on SIGINT/SIGTERM/SIGHUP (the harness's safety net); the first lab
  // of the process removes what killed runs left behind.
  const lab = await Lab.create({ prefix: NAMESPACE_PREFIX });
  let results: BenchResults;
  try {
    const ns = await lab.addNamespace("bench");
    const bench = new Bench(ns, c, settings);
    const started = performance.now();
    const step = (n: number, what: string) =>
      console.log(`[${bench.elapsedS.toFixed(0)} s] ${n}/${PARTS.length} ${what} …`);
    console.log(`namespace ${ns.name}; C baseline in ${c.dir}`);
    let sender = previous.sender ?? [];
    if (wanted("sender")) {
      step(1, "sender throughput");
      sender = await measureSenders(bench);
      console.log(senderTable(sender));
    }
    let receiver = previous.receiver ?? [];
    if (wanted("receiver")) {
      step(2, "receiver throughput");
      receiver = await measureReceivers(bench);
      console.log(receiverTable(receiver));
    }
    let pacing = previous.pacing ?? [];
    if (wanted("pacing")) {
      step(3, "pacing");
      pacing = await measurePacing(bench);
      console.log(pacingTable(pacing));
    }
    let micro: MicroResult[] = previous.micro ?? [];
    if (wanted("micro") && settings.micro) {
      step(4, "micro-benchmarks");
      try {
        micro = await measureMicro(bench);
        console.log(microTable(micro));
      } catch (error) {
        bench.notMeasured.push(`micro-benchmarks: ${message(error)}`);
      }
    } else if (wanted("micro")) {
      bench.notMeasured.push("micro-benchmarks: --no-micro");
    }
    let idle = previous.idle ?? [];
    if (wanted("idle")) {
      step(5, `idle CPU at 25 pps (${IDLE_SECONDS} s runs)`);
      idle = await measureIdle(bench);
      console.log(idleTable(idle));
    }
    let startup = previous.startup ?? [];
    if (wanted("startup")) {
      step(6, "startup");
      startup = await measureStartup(bench);
      console.log(startupTable(startup));
    }
    for (const command of c.commands) {
      bench.commands[`compile: ${command.split(" ").pop()}`] = command;
    }
    results = {
      machine,
      settings: {
        reps: settings.reps,
        seconds: settings.seconds,
        pacingSeconds: settings.pacingSeconds,
        quick: settings.quick,
        only: settings.only,
      },
      commands: { ...previous.commands, ...bench.commands },
      sender,
      receiver,
      pacing,
      micro,
      idle,
      startup,
      notMeasured: bench.notMeasured,
      totalSeconds: (performance.now() - started) / 1000,
      loadavgAtEnd: (await Deno.readTextFile("/proc/loadavg").catch(() => "unknown")).trim(),
    };
  } finally {
    try {
      await lab.close();
    } finally {
      await removeCBaseline(c.dir);
    }
  }
  await Deno.writeTextFile(settings.out, JSON.stringify(results, null, 2) + "\n");
  if (results.notMeasured.length > 0) {
    console.log("not measured:");
    for (const line of results.notMeasured) console.log(`  - ${line}`);
  }
  console.log(`done in ${results.totalSeconds.toFixed(0)} s; wrote ${settings.out}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`bench: ${message(error)}`);
    Deno.exit(1);
  }
}
