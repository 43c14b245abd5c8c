/**
 * Small helpers of `bench/run.ts`: medians, number formatting, Markdown tables, and the parser of
 * `deno bench --json` output.
 *
 * @module
 */

/** One micro-benchmark, per operation (the bench's time divided by its `xN` operation count). */
export interface MicroResult {
  /** The bench file, relative to bench/. */
  file: string;
  /** The benchmark name. */
  name: string;
  /** Operations per iteration (the `xN` suffix of the name, else 1). */
  opsPerIteration: number;
  /** Iterations measured. */
  iterations: number;
  /** Mean nanoseconds per operation. */
  avgNs: number;
  /** 75th percentile nanoseconds per operation (of iterations). */
  p75Ns: number;
  /** 99th percentile nanoseconds per operation (of iterations). */
  p99Ns: number;
}

interface DenoBenchStats {
  n: number;
  avg: number;
  p75: number;
  p99: number;
}

interface DenoBenchReport {
  benches: {
    origin: string;
    name: string;
    results: { ok?: DenoBenchStats; failed?: unknown }[];
  }[];
}

/**
 * The median of some numbers; values that are not finite (a run that measured nothing) are left
 * out.
 *
 * @param values The numbers.
 * @returns The median, NaN when no finite value is given.
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A count or rate with thousands separators, no decimals.
 *
 * @param value The number.
 * @returns The text.
 */
export function formatNumber(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * A ratio with two decimals, or `—` when unknown.
 *
 * @param value The ratio.
 * @returns The text.
 */
export function formatRatio(value: number | null): string {
  return value === null ? "—" : value.toFixed(2);
}

/**
 * A Markdown table.
 *
 * @param header Column titles.
 * @param rows Cells.
 * @returns The table, one line per row.
 */
export function formatMarkdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

/**
 * Parses `deno bench --json` output into per-operation figures.
 *
 * @param text The JSON report.
 * @returns One result per benchmark that ran.
 */
export function parseDenoBench(text: string): MicroResult[] {
  const report = JSON.parse(text) as DenoBenchReport;
  const results: MicroResult[] = [];
  for (const bench of report.benches) {
    const stats = bench.results[0]?.ok;
    if (stats === undefined) continue;
    const ops = Number(/ x(\d+)$/.exec(bench.name)?.[1] ?? 1);
    results.push({
      file: bench.origin.replace(/^.*\/bench\//, ""),
      name: bench.name.replace(/ x\d+$/, ""),
      opsPerIteration: ops,
      iterations: stats.n,
      avgNs: stats.avg / ops,
      p75Ns: stats.p75 / ops,
      p99Ns: stats.p99 / ops,
    });
  }
  return results;
}
