/**
 * What every measurement of `bench/run.ts` shares: the settings, the namespace it runs in (a lab
 * of the test harness with the `mcb-` prefix), the compiled C baseline, fresh groups and ports,
 * the command lines of the tools compared, and the record of exact commands and of what was not
 * measured.
 *
 * @module
 */

import type { CBaseline } from "./_baselines.ts";
import type { WorkerRequest } from "./_worker.ts";
import type { CommandResult, Namespace } from "../tests/lab/mod.ts";

/** The checkout's root directory. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** This Deno, which runs the library worker and the tools. */
export const DENO = Deno.execPath();
/** The local address every measurement sends from and joins on (the namespace's `lo`). */
export const IFACE = "127.0.0.1";
/** The CPU senders are pinned to when a receiver runs at the same time. */
export const SENDER_CPU = 0;
/** The CPU receivers are pinned to. */
export const RECEIVER_CPU = 1;
/** The line a receiver (C or worker) prints once it has joined. */
export const READY: RegExp = /^ready$/m;

/** The parts of the suite, in the order they run. */
export const PARTS = ["sender", "receiver", "pacing", "micro", "idle", "startup"] as const;
/** One part of the suite. */
export type Part = typeof PARTS[number];

/** Settings of a run, from the command line. */
export interface Settings {
  /** Runs per throughput figure. */
  reps: number;
  /** Seconds per sender throughput run. */
  seconds: number;
  /** Seconds per pacing run. */
  pacingSeconds: number;
  /** Seconds the pacing part may take in all (later runs are skipped past it). */
  pacingBudgetS: number;
  /** `--quick`. */
  quick: boolean;
  /** Run the micro-benchmarks. */
  micro: boolean;
  /** `--only`: the parts to run (empty: all); the others keep their figures in results.json. */
  only: Part[];
  /** Where results.json goes. */
  out: string;
}

/**
 * The last JSON line a command printed (the C programs and the worker print one).
 *
 * @param output The finished command.
 * @param what Who printed it, for the error.
 * @returns The parsed line.
 * @throws {Error} When the command failed, timed out or printed no JSON line.
 */
export function parseJsonLine<T>(output: CommandResult, what: string): T {
  const line = output.stdout.split("\n").reverse().find((l) => l.trimStart().startsWith("{"));
  if (output.code !== 0 || line === undefined) {
    const why = output.timedOut ? "timed out" : `exit ${output.code}`;
    throw new Error(`${what}: ${why}: ${(output.stderr || output.stdout).trim().slice(0, 300)}`);
  }
  return JSON.parse(line) as T;
}

/**
 * A multi-line JSON object (mcast-send pretty-prints its summary).
 *
 * @param output The finished command.
 * @param what Who printed it, for the error.
 * @returns The parsed object.
 * @throws {Error} When the command failed, timed out or printed no JSON object.
 */
export function parseJsonDocument<T>(output: CommandResult, what: string): T {
  const start = output.stdout.indexOf("{");
  if (output.code !== 0 || start < 0) {
    const why = output.timedOut ? "timed out" : `exit ${output.code}`;
    throw new Error(`${what}: ${why}: ${(output.stderr || output.stdout).trim().slice(0, 300)}`);
  }
  return JSON.parse(output.stdout.slice(start)) as T;
}

/**
 * The message of anything thrown.
 *
 * @param error What was thrown.
 * @returns Its message.
 */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a file exists.
 *
 * @param path The path.
 * @returns True when it does.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The measurements, sharing one namespace and one compiled baseline. */
export class Bench {
  /** The namespace every measurement runs in. */
  readonly ns: Namespace;
  /** The compiled C sender and receiver. */
  readonly c: CBaseline;
  /** The run's settings. */
  readonly settings: Settings;
  /** Exact commands, by measurement (the first of each kind). */
  readonly commands: Record<string, string> = {};
  /** What was not measured and why. */
  readonly notMeasured: string[] = [];
  /** When the run started (`performance.now()`). */
  readonly started = performance.now();
  #group = 0;

  /**
   * Start the record of a run.
   *
   * @param ns The namespace.
   * @param c The C baseline.
   * @param settings The settings.
   */
  constructor(ns: Namespace, c: CBaseline, settings: Settings) {
    this.ns = ns;
    this.c = c;
    this.settings = settings;
  }

  /** Seconds since the run started. */
  get elapsedS(): number {
    return (performance.now() - this.started) / 1000;
  }

  /**
   * A fresh group and port per measurement, so nothing from one run reaches the next.
   *
   * @returns The group and port.
   */
  nextGroup(): { group: string; port: number } {
    this.#group++;
    return { group: `239.255.77.${this.#group % 250 + 1}`, port: 20000 + this.#group };
  }

  /**
   * Record the exact command of a measurement (the first one of each key), with the namespace,
   * the temporary directory, the checkout and Deno written as `$NS`, `$TMP`, relative paths and
   * `deno`.
   *
   * @param key The measurement.
   * @param argv The command line as run.
   */
  note(key: string, argv: readonly string[]): void {
    if (this.commands[key] !== undefined) return;
    this.commands[key] = argv.map((a) => (/[\s"{}]/.test(a) ? `'${a}'` : a)).join(" ")
      .replaceAll(this.c.dir, "$TMP").replaceAll(ROOT + "/", "").replaceAll(DENO, "deno")
      .replaceAll(this.ns.execArgv([]).join(" "), "ip netns exec $NS");
  }

  /**
   * The C sender's command line.
   *
   * @param group Group.
   * @param port Port.
   * @param size Payload bytes.
   * @param batch Datagrams per sendmmsg (1: send()).
   * @param count Datagrams to send (0: until `seconds`).
   * @param seconds How long to send.
   * @returns The command line.
   */
  cSenderArgv(
    group: string,
    port: number,
    size: number,
    batch: number,
    count: number,
    seconds: number,
  ): string[] {
    return [
      this.c.sender,
      ...["--group", group, "--port", String(port), "--iface", IFACE, "--size", String(size)],
      ...["--mode", batch === 1 ? "send" : "sendmmsg", "--batch", String(batch)],
      ...["--count", String(count), "--duration", String(seconds)],
    ];
  }

  /**
   * The library worker's command line (`bench/_worker.ts`).
   *
   * @param request What the worker does.
   * @returns The command line.
   */
  workerArgv(request: WorkerRequest): string[] {
    return [
      DENO,
      "run",
      "--allow-all",
      "--quiet",
      `${ROOT}/bench/_worker.ts`,
      JSON.stringify(request),
    ];
  }

  /**
   * mcast-send's command line (TTL 1, on `lo`, JSON summary).
   *
   * @param group Group.
   * @param port Port.
   * @param seconds Duration.
   * @param extra Rate, count and size options.
   * @returns The command line.
   */
  mcastSendArgv(group: string, port: number, seconds: number, extra: string[]): string[] {
    return [
      DENO,
      "run",
      "--allow-ffi",
      "--allow-env",
      "--allow-read",
      "--quiet",
      `${ROOT}/cli/mcast_send.ts`,
      group,
      String(seconds),
      "1",
      ...extra,
      ...["--port", String(port), "--interface", "lo", "--json"],
    ];
  }

  /**
   * iperf2's UDP client command line.
   *
   * @param group Group.
   * @param port Port.
   * @param bitsPerSecond The `-b` rate.
   * @param size Payload bytes.
   * @param seconds Duration.
   * @returns The command line.
   */
  iperfArgv(
    group: string,
    port: number,
    bitsPerSecond: string,
    size: number,
    seconds: number,
  ): string[] {
    return [
      "iperf",
      ...["-c", group, "-p", String(port), "-u", "-b", bitsPerSecond, "-l", String(size)],
      ...["-t", String(seconds), "-T", "1", "-B", IFACE, "-e"],
    ];
  }
}
