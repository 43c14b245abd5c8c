/**
 * Benchmark part 5, a quiet idle (issue #13): the CPU a lab pays to leave `mcast-send` →
 * `mcast-receive` running at 25 pps, with their dashboards on a terminal (each under a
 * pseudo-terminal, `script -qfec`) and with `--quiet`, beside the same pair of the C baseline
 * (`sender --pps 25` → `receiver`), iperf2 (`-c -u -b 25pps` → `-s -u -B G`) and the floor, a
 * bare Deno script with a 25 Hz `setInterval`. Every pair runs at the same time for
 * `IDLE_SECONDS` on the namespace's `lo`, each pair on its own group.
 *
 * CPU is `/proc/PID/stat` utime+stime and the threads' schedstat run time, sampled every 200 ms:
 * `totalPct` is the last sample (the run, startup included) over the run's length, `steadyPct`
 * the increase from the first sample after `STEADY_FROM_S` to the last, over that time.
 *
 * @module
 */

import { type Bench, DENO, IFACE, ROOT } from "./_context.ts";
import { CpuWatch } from "./_proc_cpu.ts";
import type { LabProcess } from "../tests/lab/mod.ts";
import { median } from "./_report.ts";

/** Seconds each idle run lasts. */
export const IDLE_SECONDS = 20;
/** Where the steady state starts (startup excluded). */
const STEADY_FROM_S = 3;
const RATE_PPS = 25;

/** One process's CPU over one run. */
export interface IdleRun {
  /** CPU over the whole run (startup included), % of one core. */
  totalPct: number;
  /** CPU after STEADY_FROM_S, % of one core. */
  steadyPct: number;
  /** CPU ms in total (schedstat of live threads, or stat ticks when larger). */
  cpuMs: number;
}

/** One idle figure, medians over the runs. */
export interface IdleRow {
  /** `mcast-send`, `mcast-receive`, `C sender`, …. */
  tool: string;
  /** `dashboard (pty)`, `--quiet`, …. */
  mode: string;
  /** Median totalPct. */
  totalPct: number;
  /** Median steadyPct. */
  steadyPct: number;
  /** Each run. */
  runs: IdleRun[];
  /** Why not measured. */
  error?: string;
}

interface Case {
  tool: string;
  mode: string;
  exe: string;
  argv: string[];
  pty: boolean;
}

/**
 * A tool's command line as its deno.json task has it (the same permissions a user gets).
 *
 * @param task The task name.
 * @param args The tool's arguments.
 * @returns The command line.
 */
export async function taskArgv(task: string, args: string[]): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const words = String(config.tasks[task]).split(" ");
  return [
    DENO,
    ...words.slice(1).map((w) => (w.startsWith("cli/") ? `${ROOT}/${w}` : w)),
    ...args,
  ];
}

function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w./=:,+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

async function cases(bench: Bench, floorScript: string): Promise<Case[]> {
  const s = String(IDLE_SECONDS);
  const out: Case[] = [];
  for (
    const [mode, pty, extra] of [["dashboard (pty)", true, []], ["--quiet", false, [
      "--quiet",
    ]]] as const
  ) {
    const { group, port } = bench.nextGroup();
    const p = ["--port", String(port), "--interface", "lo"];
    out.push({
      tool: "mcast-receive",
      mode,
      exe: "deno",
      pty,
      argv: await taskArgv("mcast-receive", [group, ...p, "--duration", s, ...extra]),
    });
    out.push({
      tool: "mcast-send",
      mode,
      exe: "deno",
      pty,
      argv: await taskArgv("mcast-send", [group, s, "1", ...p, "--rate", "25pps", ...extra]),
    });
  }
  {
    const { group, port } = bench.nextGroup();
    out.push({
      tool: "C receiver",
      mode: "recvmmsg",
      exe: "receiver",
      pty: false,
      argv: [
        bench.c.receiver,
        ...["--group", group, "--port", String(port), "--iface", IFACE],
        ...["--idle-ms", String(IDLE_SECONDS * 1000), "--duration", s],
      ],
    });
    out.push({
      tool: "C sender",
      mode: "--pps 25",
      exe: "sender",
      pty: false,
      argv: [...bench.cSenderArgv(group, port, 200, 1, 0, IDLE_SECONDS), "--pps", "25"],
    });
  }
  {
    const { group, port } = bench.nextGroup();
    out.push({
      tool: "iperf2 server",
      mode: "-s -u -B G%lo",
      exe: "iperf",
      pty: false,
      argv: ["iperf", "-s", "-u", "-B", `${group}%lo`, "-p", String(port), "-t", s],
    });
    out.push({
      tool: "iperf2 client",
      mode: "-b 25pps",
      exe: "iperf",
      pty: false,
      argv: bench.iperfArgv(group, port, `${RATE_PPS}pps`, 200, IDLE_SECONDS),
    });
  }
  out.push({
    tool: "deno floor",
    mode: "25 Hz setInterval",
    exe: "deno",
    pty: false,
    argv: [DENO, "run", "--quiet", floorScript, s],
  });
  return out;
}

function runOf(watch: CpuWatch, startedAt: number): IdleRun | null {
  const samples = watch.samples;
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  const first = samples.find((x) => x.at - startedAt >= STEADY_FROM_S * 1000) ?? samples[0];
  const cpu = (x: typeof last) => Math.max(x.schedMs, x.statMs);
  const steadyMs = last.at - first.at;
  return {
    totalPct: (cpu(last) / (IDLE_SECONDS * 1000)) * 100,
    steadyPct: steadyMs > 0 ? ((last.schedMs - first.schedMs) / steadyMs) * 100 : NaN,
    cpuMs: cpu(last),
  };
}

/**
 * Part 5: CPU at 25 pps for IDLE_SECONDS, each tool with and without its dashboard, beside C,
 * iperf2 and a bare Deno timer, all at the same time; medians over `bench.settings.reps` runs.
 *
 * @param bench The run.
 * @returns One row per tool and mode.
 */
export async function measureIdle(bench: Bench): Promise<IdleRow[]> {
  // In the C baseline's temporary directory (removed with it; `$TMP` in the commands).
  const floorScript = `${bench.c.dir}/floor.ts`;
  await Deno.writeTextFile(
    floorScript,
    "const t = setInterval(() => {}, 40);\n" +
      "setTimeout(() => clearInterval(t), Number(Deno.args[0]) * 1000);\n",
  );
  const byKey = new Map<string, IdleRow>();
  for (let rep = 0; rep < bench.settings.reps; rep++) {
    const list = await cases(bench, floorScript);
    const running: { c: Case; process: LabProcess; watch: CpuWatch; at: number }[] = [];
    for (const c of list) {
      // Receivers first (each case list puts the receiver before its sender).
      const argv = c.pty ? ["script", "-qfec", shellQuote(c.argv), "/dev/null"] : c.argv;
      bench.note(`idle: ${c.tool} ${c.mode}`, bench.ns.execArgv(argv));
      const at = performance.now();
      const process = bench.ns.spawn(argv, {
        timeoutMs: (IDLE_SECONDS + 15) * 1000,
        env: { TERM: "xterm-256color", COLUMNS: "100", LINES: "40" },
      });
      running.push({ c, process, watch: new CpuWatch(process.pid, c.exe), at });
    }
    for (const r of running) {
      const key = `${r.c.tool}\u0000${r.c.mode}`;
      const row = byKey.get(key) ??
        { tool: r.c.tool, mode: r.c.mode, totalPct: NaN, steadyPct: NaN, runs: [] };
      byKey.set(key, row);
      const result = await r.process.wait();
      await r.watch.stop();
      const run = runOf(r.watch, r.at);
      if (run === null || (result.code !== 0 && result.code !== 3)) {
        row.error = `exit ${result.code}: ${(result.stderr || result.stdout).slice(0, 200)}`;
      } else {
        row.runs.push(run);
      }
    }
  }
  const rows = [...byKey.values()];
  for (const row of rows) {
    row.totalPct = median(row.runs.map((r) => r.totalPct));
    row.steadyPct = median(row.runs.map((r) => r.steadyPct));
  }
  return rows;
}
