/**
 * Benchmark part 1, sender throughput: unpaced 200 and 1400 byte MCAS datagrams to a group on
 * `lo` with no receiver — C `send()` / `sendmmsg()` loops, the library's `Publication`
 * (`trySend` per datagram, `sendBatch`, `prepareBatch` + `sendPrepared`), `mcast-send --rate max`
 * and `iperf -c … -u`, each compared with the C call it matches and with iperf2.
 *
 * @module
 */

import { parseIperfClient } from "./_baselines.ts";
import {
  type Bench,
  exists,
  IFACE,
  message,
  parseJsonDocument,
  parseJsonLine,
  ROOT,
} from "./_context.ts";
import { median } from "./_report.ts";
import type { SendResult, WorkerRequest } from "./_worker.ts";

const SIZES = [200, 1400] as const;
const BATCHES = [32, 64] as const;

/** One throughput figure: every run, and the median. */
export interface SenderRow {
  /** Stable id, e.g. `lib-prepared-64`. */
  id: string;
  /** Who: `C`, `ours (library)`, `ours (mcast-send)`, `iperf2`. */
  tool: string;
  /** How it sends. */
  method: string;
  /** UDP payload bytes. */
  size: number;
  /** Datagrams per syscall (1 for send()). */
  batch: number;
  /** Datagrams per second of each run. */
  runs: number[];
  /** Median of the runs, or null when not measured. */
  pps: number | null;
  /** Id of the C row it is compared with. */
  cReference: string | null;
  /** pps / that C row's pps. */
  ratioC: number | null;
  /** pps / iperf2's pps (same size). */
  ratioIperf: number | null;
  /** Why it was not measured, when it was not. */
  error?: string;
}

async function cSend(bench: Bench, size: number, batch: number): Promise<number> {
  const { group, port } = bench.nextGroup();
  const argv = bench.cSenderArgv(group, port, size, batch, 0, bench.settings.seconds);
  bench.note(`sender: C ${batch === 1 ? "send" : `sendmmsg ${batch}`}`, bench.ns.execArgv(argv));
  const out = await bench.ns.run(argv, { timeoutMs: 15_000 });
  return parseJsonLine<{ pps: number }>(out, "C sender").pps;
}

async function libSend(
  bench: Bench,
  mode: WorkerRequest["mode"],
  size: number,
  batch: number,
): Promise<number> {
  const { group, port } = bench.nextGroup();
  const argv = bench.workerArgv({
    mode,
    group,
    port,
    iface: IFACE,
    size,
    batch,
    count: 0,
    durationS: bench.settings.seconds,
    idleMs: 0,
    warmupS: 0.2,
    receiveBufferBytes: 0,
    waitGo: false,
    processing: "full",
  });
  bench.note(
    `sender: library ${mode}${mode === "send" ? "" : ` ${batch}`}`,
    bench.ns.execArgv(argv),
  );
  const out = await bench.ns.run(argv, { timeoutMs: 30_000 });
  return parseJsonLine<SendResult>(out, `library ${mode}`).pps;
}

async function mcastSendMax(bench: Bench, size: number, count: number): Promise<number> {
  const { group, port } = bench.nextGroup();
  const argv = bench.mcastSendArgv(group, port, 20, [
    ...["--rate", "max", "--count", String(count), "--size", String(size)],
  ]);
  bench.note("sender: mcast-send --rate max", bench.ns.execArgv(argv));
  const out = await bench.ns.run(argv, { timeoutMs: 40_000 });
  return parseJsonDocument<{ achieved_pps: number }>(out, "mcast-send").achieved_pps;
}

async function iperfMax(bench: Bench, size: number): Promise<number> {
  const { group, port } = bench.nextGroup();
  const seconds = Math.max(1, Math.round(bench.settings.seconds));
  const argv = bench.iperfArgv(group, port, "100G", size, seconds);
  bench.note("sender: iperf2", bench.ns.execArgv(argv));
  const out = await bench.ns.run(argv, { timeoutMs: (seconds + 10) * 1000 });
  const report = parseIperfClient(out.stdout);
  if (report === null) throw new Error(`iperf2: no report: ${out.stderr.trim().slice(0, 200)}`);
  return report.pps;
}

/**
 * Measure every sender, `settings.reps` runs each, both sizes.
 *
 * @param bench The run.
 * @returns One row per sender and size (failures noted in `bench.notMeasured`).
 */
export async function measureSenders(bench: Bench): Promise<SenderRow[]> {
  const rows: SenderRow[] = [];
  const haveMcastSend = await exists(`${ROOT}/cli/mcast_send.ts`);
  if (!haveMcastSend) bench.notMeasured.push("mcast-send: cli/mcast_send.ts does not exist");
  for (const size of SIZES) {
    const cases: {
      row: Omit<SenderRow, "runs" | "pps" | "ratioC" | "ratioIperf">;
      measure: (rep: number) => Promise<number>;
    }[] = [];
    const add = (
      row: Omit<SenderRow, "runs" | "pps" | "ratioC" | "ratioIperf">,
      measure: (rep: number) => Promise<number>,
    ) => cases.push({ row, measure });
    add(
      { id: "c-send", tool: "C", method: "send() loop", size, batch: 1, cReference: null },
      () => cSend(bench, size, 1),
    );
    for (const batch of BATCHES) {
      add({
        id: `c-sendmmsg-${batch}`,
        tool: "C",
        method: `sendmmsg() ×${batch}`,
        size,
        batch,
        cReference: null,
      }, () => cSend(bench, size, batch));
    }
    add({
      id: "lib-send",
      tool: "ours (library)",
      method: "Publication.trySend per datagram",
      size,
      batch: 1,
      cReference: "c-send",
    }, () => libSend(bench, "send", size, 1));
    for (const batch of BATCHES) {
      add({
        id: `lib-sendbatch-${batch}`,
        tool: "ours (library)",
        method: `Publication.sendBatch ×${batch}`,
        size,
        batch,
        cReference: `c-sendmmsg-${batch}`,
      }, () => libSend(bench, "send-batch", size, batch));
    }
    for (const batch of BATCHES) {
      add({
        id: `lib-prepared-${batch}`,
        tool: "ours (library)",
        method: `prepareBatch + sendPrepared ×${batch}`,
        size,
        batch,
        cReference: `c-sendmmsg-${batch}`,
      }, () => libSend(bench, "send-prepared", size, batch));
    }
    if (haveMcastSend) {
      add({
        id: "mcast-send",
        tool: "ours (mcast-send)",
        method: "--rate max --count N (whole process)",
        size,
        batch: 0,
        cReference: "c-send",
      }, () => mcastSendMax(bench, size, Math.round(bench.settings.seconds * 400_000)));
    }
    add({
      id: "iperf2",
      tool: "iperf2",
      method: "-u -b 100G (whole process)",
      size,
      batch: 1,
      cReference: "c-send",
    }, () => iperfMax(bench, size));

    const runs = cases.map(() => [] as number[]);
    const errors = cases.map(() => undefined as string | undefined);
    for (let rep = 0; rep < bench.settings.reps; rep++) {
      for (const [i, c] of cases.entries()) {
        if (errors[i] !== undefined) continue;
        try {
          runs[i].push(await c.measure(rep));
        } catch (error) {
          errors[i] = message(error);
        }
      }
    }
    const sizeRows: SenderRow[] = cases.map((c, i) => ({
      ...c.row,
      runs: runs[i],
      pps: runs[i].length > 0 ? median(runs[i]) : null,
      ratioC: null,
      ratioIperf: null,
      ...(errors[i] === undefined ? {} : { error: errors[i] }),
    }));
    const byId = new Map(sizeRows.map((r) => [r.id, r]));
    const iperf = byId.get("iperf2")?.pps ?? null;
    for (const row of sizeRows) {
      const reference = row.cReference === null ? null : byId.get(row.cReference)?.pps ?? null;
      if (row.pps !== null && reference !== null) row.ratioC = row.pps / reference;
      if (row.pps !== null && iperf !== null && row.id !== "iperf2") {
        row.ratioIperf = row.pps / iperf;
      }
      if (row.error !== undefined) bench.notMeasured.push(`${row.id} ${size} B: ${row.error}`);
    }
    rows.push(...sizeRows);
  }
  return rows;
}
