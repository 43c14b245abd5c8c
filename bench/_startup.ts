/**
 * Benchmark part 6, startup (issue #13): from the spawn (`ip netns exec NS …`, the clock read
 * just before it) to the first datagram on the namespace's `lo` (tcpdump's timestamp, same
 * realtime clock) for the senders, and to the join (the group in the process's own
 * `/proc/PID/net/igmp`, polled every millisecond) for the receivers; beside `deno run` of an
 * empty script (spawn to exit), iperf2's client and server and the C sender. Median of
 * `max(5, reps)` runs, one at a time.
 *
 * @module
 */

import { type Bench, DENO } from "./_context.ts";
import { taskArgv } from "./_idle.ts";
import { median } from "./_report.ts";

/** One startup figure. */
export interface StartupRow {
  /** The tool. */
  tool: string;
  /** `first packet`, `join` or `exit`. */
  until: string;
  /** Median ms. */
  medianMs: number;
  /** Each run, ms. */
  runs: number[];
  /** Why a run failed, when one did. */
  error?: string;
}

/** The group as /proc/net/igmp writes it (the address as a host-order u32, %08X). */
function igmpHex(group: string): string {
  const b = group.split(".").map(Number);
  return ((b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0]) >>> 0).toString(16).toUpperCase()
    .padStart(8, "0");
}

async function toFirstPacket(bench: Bench, argv: string[], port: number): Promise<number> {
  const dump = bench.ns.spawn(
    [
      "tcpdump",
      "-i",
      "lo",
      "-n",
      "-tt",
      "-l",
      "--immediate-mode",
      "-c",
      "1",
      `udp dst port ${port}`,
    ],
    { timeoutMs: 20_000 },
  );
  try {
    await dump.waitForOutput(/listening on/, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const spawnedAt = Date.now();
    const tool = bench.ns.spawn(argv, { timeoutMs: 15_000 });
    const line = await dump.waitForOutput(/^(\d+\.\d+) IP/m, 12_000);
    await tool.stop();
    return Number(line[1]) * 1000 - spawnedAt;
  } finally {
    await dump.stop();
  }
}

async function toJoin(bench: Bench, argv: string[], group: string): Promise<number> {
  const hex = igmpHex(group);
  const spawnedAt = performance.now();
  const tool = bench.ns.spawn(argv, { timeoutMs: 15_000 });
  try {
    while (performance.now() - spawnedAt < 10_000) {
      const text = await Deno.readTextFile(`/proc/${tool.pid}/net/igmp`).catch(() => "");
      if (text.includes(hex)) return performance.now() - spawnedAt;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`no join of ${group} within 10 s`);
  } finally {
    await tool.stop();
  }
}

async function toExit(bench: Bench, argv: string[]): Promise<number> {
  const spawnedAt = performance.now();
  await bench.ns.run(argv, { timeoutMs: 15_000, check: true });
  return performance.now() - spawnedAt;
}

/**
 * Part 6: startup of each tool, one run at a time.
 *
 * @param bench The run.
 * @returns One row per tool.
 */
export async function measureStartup(bench: Bench): Promise<StartupRow[]> {
  // In the C baseline's temporary directory (removed with it).
  const empty = `${bench.c.dir}/empty.ts`;
  await Deno.writeTextFile(empty, "\n");
  const reps = Math.max(5, bench.settings.reps);
  type Probe = { tool: string; until: string; once: () => Promise<number> };
  const probes: Probe[] = [
    {
      tool: "deno run (empty script)",
      until: "exit",
      once: () => toExit(bench, [DENO, "run", "--quiet", empty]),
    },
    {
      tool: "mcast-send --quiet",
      until: "first packet",
      once: async () => {
        const { group, port } = bench.nextGroup();
        const argv = await taskArgv("mcast-send", [
          ...[group, "5", "1", "--port", String(port), "--interface", "lo", "--quiet"],
        ]);
        bench.note("startup: mcast-send", bench.ns.execArgv(argv));
        return toFirstPacket(bench, argv, port);
      },
    },
    {
      tool: "C sender --pps 25",
      until: "first packet",
      once: () => {
        const { group, port } = bench.nextGroup();
        return toFirstPacket(bench, [
          ...bench.cSenderArgv(group, port, 200, 1, 0, 5),
          ...["--pps", "25"],
        ], port);
      },
    },
    {
      tool: "iperf2 client",
      until: "first packet",
      once: () => {
        const { group, port } = bench.nextGroup();
        return toFirstPacket(bench, bench.iperfArgv(group, port, "25pps", 200, 5), port);
      },
    },
    {
      tool: "mcast-receive --quiet",
      until: "join",
      once: async () => {
        const { group, port } = bench.nextGroup();
        const argv = await taskArgv("mcast-receive", [
          ...[group, "--port", String(port), "--interface", "lo", "--quiet", "--duration", "5"],
        ]);
        bench.note("startup: mcast-receive", bench.ns.execArgv(argv));
        return toJoin(bench, argv, group);
      },
    },
    {
      tool: "iperf2 server",
      until: "join",
      once: () => {
        const { group, port } = bench.nextGroup();
        return toJoin(bench, ["iperf", "-s", "-u", "-B", `${group}%lo`, "-p", String(port)], group);
      },
    },
  ];
  const rows: StartupRow[] = [];
  for (const probe of probes) {
    const row: StartupRow = { tool: probe.tool, until: probe.until, medianMs: NaN, runs: [] };
    for (let i = 0; i < reps; i++) {
      try {
        row.runs.push(await probe.once());
      } catch (error) {
        row.error = error instanceof Error ? error.message : String(error);
      }
    }
    row.medianMs = median(row.runs);
    rows.push(row);
  }
  return rows;
}
