/**
 * The side-by-side benchmark suite (`deno task bench`): measures the library and the tools
 * against iperf2 and a small C baseline in the same run, on the loopback interface of a network
 * namespace it creates and deletes (pacing: over a veth pair between two more), and writes
 * `bench/results.json`. Needs root (`ip netns`), gcc, iperf2 and tcpdump; finishes in about four
 * minutes (`--quick`: under two; the pacing part alone, `--only pacing`, in a minute and a half).
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
 *
 * Each part has its file (`_sender.ts`, `_receiver.ts`, `_pacing.ts`, `_micro.ts`), sharing
 * `_context.ts`; this file parses the options, runs the parts in order, prints the tables and
 * writes the results. The namespace is a lab of the test harness (`tests/lab/`) with its own
 * prefix, `mcb-`.
 *
 * ```sh
 * deno task bench                 # everything, 3 runs per throughput figure
 * deno task bench --quick         # 1 run each, 2 s pacing runs
 * deno task bench --reps 5 --seconds 2 --out /tmp/results.json
 * deno task bench --only pacing   # one part (sender, receiver, pacing, micro; a comma list);
 *                                 # the other parts of the results file are kept
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { compileCBaseline, describeMachine, type Machine, removeCBaseline } from "./_baselines.ts";
import { Bench, message, ROOT, type Settings } from "./_context.ts";
import { measureMicro } from "./_micro.ts";
import { measurePacing, type PacingRow } from "./_pacing.ts";
import { measureReceivers, type ReceiverRow } from "./_receiver.ts";
import { measureSenders, type SenderRow } from "./_sender.ts";
import { formatMarkdownTable, formatNumber, formatRatio, type MicroResult } from "./_report.ts";
import { Lab } from "../tests/lab/mod.ts";

export type { PacingRow, ReceiverRow, SenderRow };

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
    /** The parts measured in this run (`--only`); the others were kept from the file. */
    parts?: string[];
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
  /** What was not measured and why. */
  notMeasured: string[];
  /** Wall-clock seconds the whole run took. */
  totalSeconds: number;
  /** /proc/loadavg at the end of the run. */
  loadavgAtEnd: string;
}

/** The parts of the suite, in run order (`--only` picks some). */
const PARTS = ["sender", "receiver", "pacing", "micro"] as const;
type Part = (typeof PARTS)[number];

function settingsFrom(args: string[]): Settings & { parts: Part[] } {
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
  const only = values.only === undefined ? [...PARTS] : values.only.split(",").map((p) => p.trim());
  for (const part of only) {
    if (!(PARTS as readonly string[]).includes(part)) {
      throw new Error(`--only: ${part} (expected ${PARTS.join(", ")})`);
    }
  }
  return {
    reps,
    seconds,
    pacingSeconds: quick ? 2 : 3,
    pacingBudgetS: quick ? 60 : 110,
    quick,
    micro: values["no-micro"] !== true && only.includes("micro"),
    parts: only as Part[],
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

/** The commands of the parts a `--only` run did not measure, from the results file. */
function keptCommands(previous: BenchResults | null, parts: Part[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, command] of Object.entries(previous?.commands ?? {})) {
    const part = key.startsWith("pacing") ? "pacing" : key.startsWith("micro") ? "micro" : null;
    if (part === null || !parts.includes(part)) kept[key] = command;
  }
  return kept;
}

async function main(args: string[]): Promise<number> {
  const settings = settingsFrom(args);
  const machine = await describeMachine();
  console.log(
    `mcast bench: ${machine.cpu}, ${machine.nproc} CPUs, kernel ${machine.kernel}, ` +
      `deno ${machine.deno}, load ${machine.loadavg}`,
  );
  const c = await compileCBaseline();
  // Deleted at the end, also on SIGINT/SIGTERM/SIGHUP (the harness's safety net); the first lab
  // of the process removes what killed runs left behind.
  const lab = await Lab.create({ prefix: NAMESPACE_PREFIX });
  let results: BenchResults;
  // With --only, the parts not run keep their figures from the results file.
  const previous = settings.parts.length < PARTS.length
    ? await Deno.readTextFile(settings.out).then((t) => JSON.parse(t) as BenchResults)
      .catch(() => null)
    : null;
  try {
    const ns = await lab.addNamespace("bench");
    const bench = new Bench(ns, c, settings);
    const started = performance.now();
    console.log(`namespace ${ns.name}; C baseline in ${c.dir}`);
    const runs = (part: Part) => settings.parts.includes(part);
    let sender: SenderRow[] = previous?.sender ?? [];
    let receiver: ReceiverRow[] = previous?.receiver ?? [];
    let pacing: PacingRow[] = previous?.pacing ?? [];
    let micro: MicroResult[] = previous?.micro ?? [];
    if (runs("sender")) {
      console.log(`[${bench.elapsedS.toFixed(0)} s] 1/4 sender throughput …`);
      sender = await measureSenders(bench);
      console.log(senderTable(sender));
    }
    if (runs("receiver")) {
      console.log(`[${bench.elapsedS.toFixed(0)} s] 2/4 receiver throughput …`);
      receiver = await measureReceivers(bench);
      console.log(receiverTable(receiver));
    }
    if (runs("pacing")) {
      console.log(`[${bench.elapsedS.toFixed(0)} s] 3/4 pacing …`);
      pacing = await measurePacing(bench);
      console.log(pacingTable(pacing));
    }
    if (settings.micro) {
      console.log(`[${bench.elapsedS.toFixed(0)} s] 4/4 micro-benchmarks …`);
      try {
        micro = await measureMicro(bench);
        console.log(microTable(micro));
      } catch (error) {
        bench.notMeasured.push(`micro-benchmarks: ${message(error)}`);
      }
    } else if (runs("micro")) {
      bench.notMeasured.push("micro-benchmarks: --no-micro");
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
        parts: settings.parts,
      },
      commands: { ...keptCommands(previous, settings.parts), ...bench.commands },
      sender,
      receiver,
      pacing,
      micro,
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
