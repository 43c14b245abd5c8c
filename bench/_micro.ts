/**
 * Benchmark part 4, micro-benchmarks: `deno bench --json bench/` (the `*_bench.ts` files), per
 * operation.
 *
 * @module
 */

import { type Bench, DENO, ROOT } from "./_context.ts";
import { type MicroResult, parseDenoBench } from "./_report.ts";

/**
 * Run the micro-benchmarks.
 *
 * @param bench The run (for the command record).
 * @returns One result per benchmark.
 * @throws {Error} When `deno bench` fails.
 */
export async function measureMicro(bench: Bench): Promise<MicroResult[]> {
  const argv = [
    DENO,
    "bench",
    "--allow-ffi",
    "--allow-read",
    "--allow-env",
    "--json",
    "--quiet",
    `${ROOT}/bench/`,
  ];
  bench.note("micro: deno bench", argv);
  const result = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(90_000),
  }).output();
  const text = new TextDecoder().decode(result.stdout);
  if (!result.success) {
    throw new Error(
      `deno bench: exit ${result.code}: ${new TextDecoder().decode(result.stderr)}`,
    );
  }
  return parseDenoBench(text);
}
