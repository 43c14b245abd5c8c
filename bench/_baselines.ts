/**
 * The baselines the library is compared with: the C sender/receiver in `bench/c/` (compiled with
 * `gcc -O2` into a temporary directory at bench time — no binary is kept), iperf2's report
 * parser, and the machine description written next to the results.
 *
 * @module
 */

/** Paths of the compiled C baseline. */
export interface CBaseline {
  /** The temporary directory holding the binaries (removed by {@linkcode removeCBaseline}). */
  dir: string;
  /** `bench/c/sender.c`, compiled. */
  sender: string;
  /** `bench/c/receiver.c`, compiled. */
  receiver: string;
  /** The exact gcc command lines used. */
  commands: string[];
}

/** What iperf2's client reported for one run. */
export interface IperfReport {
  /** Datagrams written (the Write column; the final FIN datagrams not included). */
  datagrams: number;
  /** Write errors. */
  errors: number;
  /** Seconds of the report interval. */
  seconds: number;
  /** datagrams / seconds. */
  pps: number;
}

/** The machine the numbers were measured on. */
export interface Machine {
  /** `nproc`. */
  nproc: number;
  /** CPU model from /proc/cpuinfo. */
  cpu: string;
  /** `uname -r`. */
  kernel: string;
  /** Deno, V8 and TypeScript versions. */
  deno: string;
  /** `iperf -v`. */
  iperf: string;
  /** `gcc --version`, first line. */
  gcc: string;
  /** When the run started (ISO 8601). */
  date: string;
  /** /proc/loadavg when the run started (other work on the machine skews the numbers). */
  loadavg: string;
}

const BENCH_DIR = new URL(".", import.meta.url).pathname;
const decoder = new TextDecoder();

async function output(argv: string[]): Promise<string> {
  try {
    const result = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    return (decoder.decode(result.stdout) + decoder.decode(result.stderr)).trim();
  } catch (error) {
    return `unavailable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Compiles `bench/c/sender.c` and `bench/c/receiver.c` with `gcc -O2` into a new temporary
 * directory.
 *
 * @returns The binaries.
 * @throws {Error} When gcc fails.
 */
export async function compileCBaseline(): Promise<CBaseline> {
  const dir = await Deno.makeTempDir({ prefix: "mcast-bench-" });
  const commands: string[] = [];
  const built: string[] = [];
  for (const name of ["sender", "receiver"]) {
    const argv = ["gcc", "-O2", "-Wall", "-o", `${dir}/${name}`, `${BENCH_DIR}c/${name}.c`];
    const result = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    if (!result.success) {
      await removeCBaseline(dir);
      throw new Error(`gcc failed for ${name}.c: ${decoder.decode(result.stderr).trim()}`);
    }
    commands.push(argv.join(" ").replace(dir, "$TMP").replace(BENCH_DIR, "bench/"));
    built.push(`${dir}/${name}`);
  }
  return { dir, sender: built[0], receiver: built[1], commands };
}

/**
 * Removes the temporary directory of a compiled baseline.
 *
 * @param dir The directory from {@linkcode compileCBaseline}.
 */
export async function removeCBaseline(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/**
 * Parses an iperf2 UDP client report made with `-e` (enhanced): the summary line
 * `[  1] 0.0000-2.0000 sec  142 MBytes  598 Mbits/sec  746976/0  373488 pps`.
 *
 * @param text iperf's stdout.
 * @returns The report, or null when no summary line was found.
 */
export function parseIperfClient(text: string): IperfReport | null {
  const pattern =
    /\]\s+(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) sec\s+\S+ \S+\s+\S+ \S+\s+(\d+)\/(\d+)\s+(\d+) pps/g;
  let last: RegExpExecArray | null = null;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) last = match;
  if (last === null) return null;
  const seconds = Number(last[2]) - Number(last[1]);
  const datagrams = Number(last[3]);
  return {
    datagrams,
    errors: Number(last[4]),
    seconds,
    pps: seconds > 0 ? datagrams / seconds : 0,
  };
}

/**
 * Describes this machine.
 *
 * @returns The description.
 */
export async function describeMachine(): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  return {
    nproc: navigator.hardwareConcurrency,
    cpu: model.trim(),
    kernel: await output(["uname", "-r"]),
    deno: `${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript})`,
    iperf: await output(["iperf", "-v"]),
    gcc: (await output(["gcc", "--version"])).split("\n")[0],
    date: new Date().toISOString(),
    loadavg: (await Deno.readTextFile("/proc/loadavg").catch(() => "unknown")).trim(),
  };
}
